"""Model selection on validation only: mean rank of representations by their *valid* scores.

Reads a ``molmtd benchmark`` results CSV, averages each (task, representation) over seeds on
the ``valid_score`` column (the score of the selected head on the task's validation split,
never the test set), ranks the representations per task (1 = best, ties share the mean rank;
:func:`molmtd.evaluate.report.validation_rank_table`) and prints the mean rank over the tasks
every listed representation has. This is how the
shipped default model is chosen among candidate students::

    python benchmarks/tools/valid_ranks.py benchmarks/results/tdc_admet/results_mlp.csv \\
        --reps student:zinc200k-gine-bnll,student:runs/zinc200k-mse [--out FILE.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from molmtd.evaluate.report import validation_rank_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "results", type=Path, nargs="+", help="results CSVs of molmtd benchmark (concatenated)"
    )
    parser.add_argument("--reps", required=True, help="comma-separated representations")
    parser.add_argument("--out", type=Path, help="also write the table as markdown here")
    args = parser.parse_args(argv)
    reps = [r.strip() for r in args.reps.split(",") if r.strip()]
    results = pd.concat([pd.read_csv(p) for p in args.results], ignore_index=True)
    ranks = validation_rank_table(results, reps)
    summary = ranks.mean().sort_values()
    lines = [
        f"Mean validation rank over {len(ranks)} tasks (1 = best of {len(reps)}; "
        f"`python benchmarks/tools/valid_ranks.py {' '.join(map(str, args.results))} --reps {args.reps}`)",
        "",
        "| representation | mean validation rank | tasks ranked first |",
        "|---|---|---|",
    ]
    for rep, value in summary.items():
        lines.append(f"| {rep} | {value:.2f} | {int((ranks[rep] == 1).sum())} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
