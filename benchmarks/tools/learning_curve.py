"""A distillation run's learning curve: steps vs TDC validation rank and held-out probe R².

    python benchmarks/tools/learning_curve.py --results benchmarks/results/minimol_learning_curve/tdc_admet/results_mlp.csv \\
        --probe benchmarks/results/minimol_learning_curve/probe/probe.csv --run runs/long27 \\
        --anchors minimol,rdkit2d,student:zinc200k-gine-fp-mse --out benchmarks/results/minimol_learning_curve

Each kept checkpoint of ``--run`` (``student:RUN/checkpoints/step-N``, or with ``--folder heads``
its teacher-heads export ``student:RUN/heads/step-N``; several runs, comma-separated,
for a run extended in another folder: the first run's point wins at a step both hold) is one point. Its
validation rank is its mean rank among the anchors and itself only (validation scores, never
test), so points from different steps do not rank against each other; its probe R² is the
pooled held-out ridge R² of each teacher (``molmtd report-teachers``). Writes
``learning_curve.csv``, ``learning_curve.md`` and ``learning_curve.png``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from molmtd.evaluate.report import validation_rank_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--probe", type=Path, default=None)
    parser.add_argument("--run", default="runs/long27")
    parser.add_argument("--anchors", default="minimol,rdkit2d")
    parser.add_argument(
        "--folder",
        default="checkpoints",
        help="the run's sub-folder holding the points: checkpoints (the embedding) or heads "
        "(molmtd export-student --teacher-heads exports)",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = pd.read_csv(args.results)
    anchors = [a for a in args.anchors.split(",") if a]
    runs = [r for r in args.run.split(",") if r]
    found: dict[int, tuple[int, str]] = {}
    for order, run in enumerate(runs):
        pattern = re.compile(rf"^student:{re.escape(run)}/{re.escape(args.folder)}/step-(\d+)$")
        for rep in results["rep"].unique():
            if (m := pattern.match(rep)) and int(m.group(1)) not in found:
                found[int(m.group(1))] = (order, rep)
    points = sorted((step, rep) for step, (_, rep) in found.items())
    probe = pd.read_csv(args.probe) if args.probe and args.probe.is_file() else None
    rows = []
    for step, rep in points:
        ranks = validation_rank_table(results, [*anchors, rep]).mean(axis=0)
        row = {"step": step, "rep": rep, "valid_rank": ranks[rep], "of": len(anchors) + 1}
        row |= {f"valid_rank[{a}]": ranks[a] for a in anchors}
        if probe is not None:
            sub = probe[probe["representation"] == rep].set_index("teacher")["r2_pooled"]
            row |= {f"probe_r2[{t}]": v for t, v in sub.items()}
        rows.append(row)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "learning_curve.csv", index=False)
    (args.out / "learning_curve.md").write_text(
        "# Learning curve\n\n" + table.round(3).to_markdown(index=False) + "\n"
    )
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(table["step"], table["valid_rank"], "o-", label="student")
    for a in anchors:
        axes[0].plot(table["step"], table[f"valid_rank[{a}]"], "--", label=a)
    axes[0].set(xscale="log", xlabel="steps", ylabel=f"mean TDC validation rank (of {len(anchors) + 1})")
    axes[0].legend()
    for col in [c for c in table.columns if c.startswith("probe_r2")]:
        axes[1].plot(table["step"], table[col], "o-", label=col[9:-1])
    axes[1].set(xscale="log", xlabel="steps", ylabel="held-out probe R² (pooled)", ylim=(0, 1))
    axes[1].axhline(0.9, color="gray", lw=0.8, ls=":")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(args.out / "learning_curve.png", dpi=120)
    print(table.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
