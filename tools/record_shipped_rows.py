"""Record the rows of every shipped student on RDKit's NCI sample, to hold later code to them.

Run against the checkout whose rows are the reference (``PYTHONPATH=<checkout>``)::

    python tools/record_shipped_rows.py tests/fixtures/shipped_rows

writes ``shipped_rows.json`` (per model: the sha256 of all rows as float32 bytes, the number
of molecules, the CPU's instruction-set flags) and ``shipped_rows.npz`` (the first
``--keep`` rows of each model). ``tests/test_shipped_rows.py`` compares the current code with
them: bit for bit on a CPU with the same flags, to 1e-5 on another.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from rdkit import RDConfig

OPTIONS = {"precision": "float32", "num_threads": 1, "n_jobs": 1, "on_error": "nan"}
ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "fma")


def nci_smiles() -> list[str]:
    """Every line's SMILES of RDKit's ``NCI/first_5K.smi``, in file order."""
    path = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def isa() -> list[str]:
    """The instruction-set flags of this CPU that decide float32 kernel choices."""
    from molmtd.cpu import cpu_flags

    return sorted(set(ISA_FLAGS) & set(cpu_flags()))


def rows_of(model: str, smiles: list[str]) -> np.ndarray:
    from molmtd.featurizer import Featurizer

    return Featurizer(model=model, **OPTIONS).transform(smiles)


def digest(rows: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rows, dtype=np.float32).tobytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="path without suffix (.json and .npz written)")
    parser.add_argument("--keep", type=int, default=48, help="rows of each model kept")
    args = parser.parse_args()
    from molmtd.models import list_models

    smiles = nci_smiles()
    record, kept = {"options": OPTIONS, "isa": isa(), "n_molecules": len(smiles)}, {}
    for model in sorted(list_models()):
        rows = rows_of(model, smiles)
        record[model] = digest(rows)
        kept[model] = rows[: args.keep]
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    np.savez_compressed(args.out.with_suffix(".npz"), **kept)


if __name__ == "__main__":
    main()
