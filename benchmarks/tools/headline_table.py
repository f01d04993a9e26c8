"""The README's headline table: every representation of a results CSV by mean test rank.

For each representation: the mean rank over the tasks every representation has (1 = best),
the same without the tasks marked as overlapping MiniMol's pre-training (†, see
docs/minimol.md), win / tie / loss against ECFP4 counts (``--reference``; tie: mean ± std
intervals over seeds overlap) and the number of tasks on which its mean beats each
``--versus`` representation (MiniMol by default)::

    python benchmarks/tools/headline_table.py benchmarks/results/tdc_admet/results_mlp.csv \\
        --labels benchmarks/configs/headline_labels.json --out benchmarks/results/tdc_admet/headline.md

``--labels`` is a JSON object rep -> description (the README's wording); unlisted reps keep
their name. ``--per-task A,B,...`` adds a table of those representations' mean ± std per task
(best of them in bold). Only the CSV's numbers go into the tables.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from molmtd.evaluate.report import (
    better_counts,
    overlaps_minimol_pretraining,
    rank_table,
    summarize,
    win_tie_loss,
)


def headline(
    results: pd.DataFrame,
    reference: str = "ecfp",
    versus: tuple[str, ...] = ("minimol",),
    labels: dict[str, str] | None = None,
) -> str:
    """The markdown table (one row per representation, best mean rank first)."""
    labels = labels or {}
    summary = summarize(results)
    ranks = rank_table(summary)
    kept = [t for t in ranks.index if not overlaps_minimol_pretraining(str(t))]
    without = rank_table(summary[summary["task"].isin(kept)])
    order = ranks.mean(axis=0).sort_values()
    wtl = win_tie_loss(summary, reference).set_index("rep")
    n_reps, n_tasks = ranks.shape[1], ranks.shape[0]
    head = [
        "representation",
        f"mean rank (of {n_reps}, {n_tasks} tasks)",
        f"without † ({len(kept)} tasks)",
        f"vs {reference} win / tie / loss",
        *[f"better than {v} on" for v in versus],
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for rep, mean_rank in order.items():
        name = labels.get(str(rep), f"`{rep}`")
        w = wtl.loc[rep] if rep in wtl.index else None
        cells = [
            name,
            f"{mean_rank:.2f}",
            f"{without[rep].mean():.2f}",
            "–" if w is None else f"{w.win} / {w.tie} / {w.loss}",
        ]
        counts = better_counts(summary, str(rep))
        for other in versus:
            if rep == other:
                cells.append("–")
            else:
                cells.append(f"{counts.at[other, 'better']} of {counts.at[other, 'shared']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def per_task(results: pd.DataFrame, reps: list[str]) -> str:
    """Markdown: mean ± std of ``reps`` on every task (the best of them in bold; † as above)."""
    summary = summarize(results[results["rep"].isin(reps)])
    lines = ["| task | metric | " + " | ".join(f"`{r}`" for r in reps) + " |",
             "|---|---|" + "---|" * len(reps)]  # fmt: skip
    for task, sub in summary.groupby("task", sort=False):
        sub = sub.set_index("rep").reindex(reps)
        hib = bool(sub["higher_is_better"].dropna().iloc[0])
        best = sub["mean"].max() if hib else sub["mean"].min()
        cells = [
            ("**{:.3f} ± {:.3f}**" if m == best else "{:.3f} ± {:.3f}").format(m, sd)
            for m, sd in zip(sub["mean"], sub["std"])
        ]
        name = f"{task} †" if overlaps_minimol_pretraining(str(task)) else str(task)
        arrow = "↑" if hib else "↓"
        lines.append(f"| {name} | {sub['metric'].dropna().iloc[0]} {arrow} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results CSV of molmtd benchmark")
    parser.add_argument("--reference", default="ecfp")
    parser.add_argument("--versus", default="minimol", help="comma-separated")
    parser.add_argument("--labels", type=Path, help="JSON rep -> description")
    parser.add_argument("--per-task", help="comma-separated reps: also a per-task table")
    parser.add_argument("--out", type=Path, help="also write the table(s) here")
    args = parser.parse_args(argv)
    labels = json.loads(args.labels.read_text()) if args.labels else None
    versus = tuple(v for v in args.versus.split(",") if v)
    results = pd.read_csv(args.results)
    table = headline(results, args.reference, versus, labels)
    if args.per_task:
        table += "\n" + per_task(results, [r for r in args.per_task.split(",") if r])
    print(table, end="")
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
