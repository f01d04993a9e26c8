"""Merge per-writer benchmark result CSVs into one, refusing conflicting rows.

Long suites run as several ``molmtd benchmark`` processes, each with its own ``--out``;
this joins their ``results_<head>.csv`` files (and optionally an existing merged file)::

    python benchmarks/tools/merge_results.py runs/paper-0/paper/results_mlp.csv \\
        runs/paper-1/paper/results_mlp.csv --out benchmarks/results/paper/results_mlp.csv

A (suite, task, rep, head, seed) key present in two inputs is an error unless both rows
carry the same score (then one is kept). Rows keep the order of the inputs; the output is
written atomically. Then redraw the report with ``molmtd benchmark ... --report-only``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

KEY = ["suite", "task", "rep", "head", "seed"]


def merge(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate result tables; raise on a key with two different scores."""
    merged = pd.concat(frames, ignore_index=True)
    dup = merged[merged.duplicated(KEY, keep=False)]
    if len(dup):
        spread = dup.groupby(KEY)["score"].nunique()
        conflicts = spread[spread > 1]
        if len(conflicts):
            raise ValueError(
                f"conflicting scores for {len(conflicts)} keys, e.g. {conflicts.index[0]}"
            )
    return merged.drop_duplicates(KEY, keep="first").reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="may also be one of the inputs")
    args = parser.parse_args()
    frames = [pd.read_csv(p) for p in args.inputs]
    merged = merge(frames)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(f".tmp{os.getpid()}")
    merged.to_csv(tmp, index=False)
    os.replace(tmp, args.out)
    counts = merged.groupby("rep")["task"].nunique()
    print(f"{len(merged)} rows ({sum(map(len, frames))} read) -> {args.out}")
    print("tasks per rep: " + ", ".join(f"{r} {n}" for r, n in counts.items()))


if __name__ == "__main__":
    main()
