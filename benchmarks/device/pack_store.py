"""Pack store rows for the GPU machine: graphs and float16 targets in one ``.npz`` (< 64 MiB).

    python benchmarks/device/pack_store.py --store stores/zinc200k --teachers minimol,rdkit2d \\
        --n 12000 --out device_pack/zinc200k-12k.npz

The lent GPU machine has torch and PyG but no RDKit, and 64 MiB travel each way, so a
200k-molecule store (about 0.6 GB of targets) cannot go and its SMILES cannot be featurised
there. This writes the first ``--n`` rows of the store (a seeded random subset of the
corpus, as the store is built from one) with their OGB graphs already featurised
(:func:`molmtd.training.packed.pack_targets`); ``molmtd distill --store FILE.npz`` trains on
it anywhere. Prints the file's size and stops with an error above ``--max-mib``, by default
what the 64 MiB carry leaves beside the tracked tree (``git ls-files``, model weights
included; 48.5 MiB on 2026-12-06) less 2 MiB of margin: about 12,000 rows (1.1 KiB a row
compressed: 512 float16 MiniMol + 217 rdkit2d values and the graph).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import numpy as np

from molmtd.training.data import StoreTargets
from molmtd.training.packed import pack_targets

CARRY_MIB = 64.0


def tracked_tree_mib() -> float:
    """Size of the files git tracks (what the device machine receives besides the carry)."""
    names = subprocess.run(["git", "ls-files", "-z"], capture_output=True, check=True).stdout.split(
        b"\0"
    )
    return (
        sum(Path(n.decode()).stat().st_size for n in names if n and Path(n.decode()).is_file())
        / 2**20
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--teachers", help="comma-separated (default: all of the store's)")
    parser.add_argument("--n", type=int, required=True, help="rows to pack (the store's first n)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--max-mib", type=float, help="largest pack (default: 62 MiB less the tracked tree)"
    )
    args = parser.parse_args()
    if args.max_mib is None:
        args.max_mib = CARRY_MIB - 2.0 - tracked_tree_mib()
    teachers = [t for t in args.teachers.split(",") if t] if args.teachers else None
    source = StoreTargets(args.store, teachers)
    n = min(args.n, len(source))
    path = pack_targets(source, np.arange(n), args.out)
    mib = path.stat().st_size / 2**20
    print(
        f"packed {n} rows of {args.store} ({', '.join(source.teacher_dims)}) into {path}: {mib:.1f} MiB"
    )
    if mib > args.max_mib:
        path.unlink()
        raise SystemExit(f"{path}: {mib:.1f} MiB is over --max-mib {args.max_mib}; pack fewer rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
