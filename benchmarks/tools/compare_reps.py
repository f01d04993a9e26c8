"""Mean ranks and head-to-head counts over one or more ``molmtd benchmark`` results CSVs.

Concatenates the CSVs (e.g. the full-suite results and the 3D-teacher results, run with the
same protocol), optionally keeps only the tasks of one of them, and prints the mean test rank
of every representation (:func:`molmtd.evaluate.report.mean_ranks`) and, for ``--rep``, on
how many tasks its seed-mean score is better than each other representation's. The
"3D teachers" ranks of docs/results.md (on the tasks the 3D teachers have) come from::

    python benchmarks/tools/compare_reps.py benchmarks/results/tdc_admet/results_mlp.csv \\
        benchmarks/results/tdc_3d_teachers/tdc_admet/results_mlp.csv \\
        --tasks-of benchmarks/results/tdc_3d_teachers/tdc_admet/results_mlp.csv --exclude e3fp

(without ``--exclude``: the tasks that e3fp has); its "better on n of 22 tasks" counts come
from ``python benchmarks/tools/compare_reps.py benchmarks/results/tdc_admet/results_mlp.csv --rep
student:zinc200k-gine-bnll`` (the default of that time).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from molmtd.evaluate.report import better_counts, mean_ranks, rank_table, summarize


def identical_task_pairs(results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(task, rep a, rep b) where two representations have the same test score on every seed.

    Distinct embeddings practically never give identical scores on all seeds; a hit means two
    labels were scored on the same cached embeddings (the failure fixed in the cache key).
    """
    keyed = results.set_index(["task", "rep", "seed"])["score"]
    hits = []
    for task, per_task in keyed.groupby(level="task"):
        table = per_task.droplevel("task").unstack("seed")
        seen: dict[tuple, str] = {}
        for rep, row in table.iterrows():
            key = tuple(row.round(12))
            if key in seen:
                hits.append((str(task), seen[key], str(rep)))
            else:
                seen[key] = str(rep)
    return hits


def paired_differences(results: pd.DataFrame, base: str, other: str) -> pd.DataFrame:
    """Per task: ``other`` minus ``base`` test score, paired by seed (mean, std), beside the
    seed-to-seed std of ``base``; ``better`` is the mean difference in the metric's good
    direction. The bfloat16 check of docs/featurizer.md::

        python benchmarks/tools/compare_reps.py benchmarks/results/tdc_admet/results_mlp.csv \\
            benchmarks/results/precision_bfloat16/tdc_admet/results_mlp.csv \\
            --tasks-of benchmarks/results/precision_bfloat16/tdc_admet/results_mlp.csv \\
            --paired student:zinc200k-gine-fp-bnll,student-bf16:zinc200k-gine-fp-bnll
    """
    keyed = results.set_index(["task", "seed", "rep"])["score"].unstack("rep")
    diff = (keyed[other] - keyed[base]).dropna().groupby(level="task")
    table = pd.DataFrame({"mean_diff": diff.mean(), "std_diff": diff.std()})
    table["seed_std_base"] = keyed[base].groupby(level="task").std()
    higher = results.groupby("task")["higher_is_better"].first().astype(bool)
    table["better"] = table["mean_diff"].where(higher.loc[table.index], -table["mean_diff"])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="results CSVs to concatenate")
    parser.add_argument("--tasks-of", type=Path, help="keep only the tasks of this CSV")
    parser.add_argument(
        "--exclude", default="", help="comma-separated representations to leave out"
    )
    parser.add_argument("--rep", help="count the tasks where this representation is better")
    parser.add_argument(
        "--paired", help="BASE,OTHER: per-task seed-paired score differences OTHER - BASE"
    )
    args = parser.parse_args(argv)
    results = pd.concat([pd.read_csv(p) for p in args.results], ignore_index=True)
    results = results[~results["rep"].isin(args.exclude.split(","))]
    if args.tasks_of:
        results = results[results["task"].isin(set(pd.read_csv(args.tasks_of)["task"]))]
    summary = summarize(results)
    ranks = mean_ranks(summary)
    n_ranked, n_read = len(rank_table(summary)), results["task"].nunique()
    print(f"Mean rank over {n_ranked} of {n_read} tasks (tasks missing a rep are dropped)")
    for rep, value in ranks.items():
        print(f"  {rep:40s} {value:6.2f}")
    pairs = identical_task_pairs(results)
    print(
        f"\nRepresentation pairs with identical test scores on every seed of a task: {len(pairs)}"
    )
    for task, a, b in pairs:
        print(f"  {task}: {a} == {b}")
    if args.rep:
        print(f"\n{args.rep} has the better mean score than ... on n of the tasks both have")
        for other, row in better_counts(summary, args.rep).iterrows():
            print(f"  {other:40s} {row['better']} of {row['shared']}")
    if args.paired:
        base, other = args.paired.split(",")
        table = paired_differences(results, base, other)
        print(f"\n{other} - {base}, paired by seed (better > 0: {other} is better)")
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
        n_small = int((table["mean_diff"].abs() < table["seed_std_base"]).sum())
        print(f"|mean difference| < seed std of {base} on {n_small} of {len(table)} tasks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
