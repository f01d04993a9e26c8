"""Check molmtd's TDC scaffold split against PyTDC's own code: 22 ADMET tasks x seeds 1-5.

For every task of the official ADMET group files and every seed, PyTDC's
``tdc.utils.split.create_scaffold_split(train_val, seed, [0.875, 0.125, 0.0], "Drug")`` (what
``BenchmarkGroup.get_train_valid_split`` calls) is compared row for row, in order, with
``molmtd.data.splits.tdc_scaffold_split`` on the same ``train_val.csv``.

PyTDC pins its own dependency versions (RDKit < 2024.3), so run this from a separate
environment that has PyTDC, RDKit, numpy and pandas (molmtd's split module needs nothing
else). To also check the splits molmtd computes with *its own* RDKit, write them from the
molmtd environment first and pass them in::

    python benchmarks/checks/check_tdc_split.py --write-ours /tmp/ours.json       # molmtd venv
    python -m venv /tmp/tdcenv && /tmp/tdcenv/bin/pip install PyTDC==1.1.15
    /tmp/tdcenv/bin/python benchmarks/checks/check_tdc_split.py --ours /tmp/ours.json

Writes ``benchmarks/results/tdc_admet/split_check_pytdc.csv``; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from molmtd.data.splits import TDC_TRAIN_VALID_FRAC, tdc_scaffold_split  # noqa: E402

COLUMNS = ["Drug_ID", "Drug", "Y"]


def our_split(train_val: pd.DataFrame, seed: int) -> dict[str, list[int]]:
    out = tdc_scaffold_split(list(train_val["Drug"].astype(str)), seed)
    return {part: out[part].tolist() for part in ("train", "valid")}


def compare(train_val: pd.DataFrame, seed: int, ours: dict[str, list[int]]) -> dict[str, object]:
    """Row-for-row comparison of PyTDC's and molmtd's partitions for one seed."""
    from tdc.utils.split import create_scaffold_split

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        theirs = create_scaffold_split(train_val, seed, list(TDC_TRAIN_VALID_FRAC), "Drug")
    row: dict[str, object] = {"seed": seed}
    same = True
    for part in ("train", "valid"):
        a = theirs[part][COLUMNS].reset_index(drop=True)
        b = train_val.iloc[ours[part]][COLUMNS].reset_index(drop=True)
        row[f"n_{part}_pytdc"], row[f"n_{part}_molmtd"] = len(a), len(b)
        equal = len(a) == len(b) and a.equals(b)
        row[f"{part}_identical"] = equal
        same &= equal
    row["identical"] = same
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks/results/tdc_admet/split_check_pytdc.csv"
    )
    parser.add_argument("--write-ours", type=Path, help="only write molmtd's splits (JSON)")
    parser.add_argument("--ours", type=Path, help="molmtd's splits written by --write-ours")
    args = parser.parse_args()
    root = args.data_dir / "tdc_admet_group"
    task_dirs = sorted(p for p in root.iterdir() if (p / "train_val.csv").is_file())
    seeds = range(1, args.seeds + 1)
    if args.write_ours:
        from rdkit import __version__ as rdkit_version

        splits = {
            f"{d.name}/{seed}": our_split(pd.read_csv(d / "train_val.csv"), seed)
            for d in task_dirs
            for seed in seeds
        }
        args.write_ours.write_text(json.dumps({"rdkit": rdkit_version, "splits": splits}))
        print(f"wrote {len(splits)} splits (RDKit {rdkit_version}) to {args.write_ours}")
        return 0
    import tdc
    from rdkit import __version__ as rdkit_version

    given = json.loads(args.ours.read_text()) if args.ours else None
    rows = []
    for task_dir in task_dirs:
        train_val = pd.read_csv(task_dir / "train_val.csv")
        for seed in seeds:
            if given is None:
                ours, ours_rdkit = our_split(train_val, seed), rdkit_version
            else:
                ours, ours_rdkit = given["splits"][f"{task_dir.name}/{seed}"], given["rdkit"]
            row = {"task": task_dir.name, **compare(train_val, seed, ours)}
            row["rdkit_pytdc"], row["rdkit_molmtd"] = rdkit_version, ours_rdkit
            rows.append(row)
            print(f"{task_dir.name:34s} seed={seed} identical={row['identical']}", flush=True)
    table = pd.DataFrame(rows)
    table.insert(0, "pytdc_version", getattr(tdc, "__version__", "unknown"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    n_same = int(table["identical"].sum())
    print(f"{n_same}/{len(table)} (task, seed) splits identical to PyTDC; wrote {args.out}")
    return 0 if n_same == len(table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
