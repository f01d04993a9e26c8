"""Summaries of benchmark results: mean ± std, ranks, win/tie/loss, markdown, plots.

Rules:

- summary: mean and (sample, ddof=1) standard deviation of the test score over seeds;
- rank: within each task, representations are ranked on their mean score (1 = best;
  lower is better for MAE/RMSE, higher for the rest; ties share the average rank); the mean
  rank averages over the tasks where *every* compared representation has results;
- mean score per metric (the paper protocol's headline: mean AUROC over classification sets,
  mean R² over regression sets): the plain mean of the per-task mean scores over the tasks
  where every representation has results, for metrics on a common scale across tasks (AUROC,
  AUPRC, R², Spearman; not MAE/RMSE, whose units differ between tasks);
- win/tie/loss vs the reference (ECFP): a tie when the intervals mean ± std overlap
  (``|m_a - m_ref| <= s_a + s_ref``), otherwise a win or loss by the metric's direction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Per (task, rep): metric, direction, mean, std, n_seeds, invalid-row counts."""
    g = results.groupby(["task", "rep"], sort=False)
    out = g.agg(
        metric=("metric", "first"),
        higher_is_better=("higher_is_better", "first"),
        mean=("score", "mean"),
        std=("score", lambda s: float(np.std(s, ddof=1)) if len(s) > 1 else 0.0),
        n_seeds=("score", "size"),
        n_test=("n_test", "first"),
        n_invalid_test=("n_invalid_test", "max"),
        n_invalid_train=("n_invalid_train", "max"),
    ).reset_index()
    out["higher_is_better"] = out["higher_is_better"].astype(str).str.lower() == "true"
    return out


def overlaps_minimol_pretraining(task: str) -> bool:
    """True for tasks whose source assays are likely in MiniMol's pre-training labels.

    MiniMol's PCBA_1328 set holds every PubChem bioassay with more than 6,000 molecules
    labelled active or inactive (at least 10 of each). Three families of benchmark tasks are
    such screens: the ``cyp*_veith`` tasks (PubChem's qHTS CYP panel, AID 1851 and its
    per-isoform AIDs), ``tox21`` (the Tox21 qHTS assays, each in PubChem with ~8,000-10,000
    compounds) and ``hiv`` (the DTP AIDS antiviral screen, PubChem AID 179, ~41,000
    compounds). See docs/minimol.md. Tables mark them with a dagger and rank with and
    without them.
    """
    name = task.lower()
    return (name.startswith("cyp") and name.endswith("_veith")) or name in ("tox21", "hiv")


def rank_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Task x rep ranks (1 = best) on the mean score; tasks missing a rep are dropped."""
    pivot = summary.pivot(index="task", columns="rep", values="mean").dropna(axis=0)
    hib = summary.groupby("task")["higher_is_better"].first()
    ranks = {}
    for task, row in pivot.iterrows():
        ranks[task] = row.rank(ascending=not bool(hib[task]), method="average")
    return pd.DataFrame(ranks).T.reindex(columns=pivot.columns)


def validation_rank_table(results: pd.DataFrame, reps: list[str] | None = None) -> pd.DataFrame:
    """:func:`rank_table` on the seed-mean ``valid_score`` instead of the test score.

    For choosing among representations (e.g. the shipped default student) without looking at
    the test sets. ``reps`` restricts the ranking to those representations (all must exist).
    """
    if reps is not None:
        missing = sorted(set(reps) - set(results["rep"]))
        if missing:
            raise ValueError(f"representations without results: {missing}")
        results = results[results["rep"].isin(reps)]
    table = rank_table(summarize(results.assign(score=results["valid_score"])))
    if table.empty:
        raise ValueError("no task has validation scores for every representation")
    return table if reps is None else table[reps]


def mean_ranks(summary: pd.DataFrame) -> pd.Series:
    """Mean rank per representation (lower is better), sorted."""
    return rank_table(summary).mean(axis=0).sort_values()


#: Metrics whose per-task values share a scale, so a mean over tasks means something.
AVERAGEABLE_METRICS = ("auroc", "auprc", "r2", "spearman")


def mean_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """Metric x rep mean of per-task mean scores, plus ``n_tasks`` (module rule).

    Only tasks where every representation has a result enter, as for :func:`mean_ranks`;
    metrics outside :data:`AVERAGEABLE_METRICS` are left out.
    """
    complete = set(rank_table(summary).index)
    sub = summary[summary["task"].isin(complete) & summary["metric"].isin(AVERAGEABLE_METRICS)]
    if sub.empty:
        return pd.DataFrame()
    reps = list(dict.fromkeys(summary["rep"]))
    table = sub.pivot_table(index="metric", columns="rep", values="mean", aggfunc="mean")
    table = table.reindex(columns=reps)
    table.insert(0, "n_tasks", sub.groupby("metric")["task"].nunique())
    return table


def better_counts(summary: pd.DataFrame, rep: str) -> pd.DataFrame:
    """Per other representation: tasks where ``rep``'s mean score is strictly better.

    Returns
    -------
    DataFrame
        Indexed by the other representations: ``better`` (tasks where ``rep`` wins on the
        mean, in the metric's good direction) and ``shared`` (tasks both were scored on).
    """
    pivot = summary.pivot(index="task", columns="rep", values="mean")
    higher = summary.groupby("task")["higher_is_better"].first().loc[pivot.index]
    sign = higher.map({True: 1.0, False: -1.0})
    others = pivot.drop(columns=rep)
    diff = others.sub(pivot[rep], axis=0).mul(sign, axis=0)
    shared = others.notna().mul(pivot[rep].notna(), axis=0)
    return pd.DataFrame({"better": (diff < 0).sum().astype(int), "shared": shared.sum()})


def win_tie_loss(summary: pd.DataFrame, reference: str = "ecfp") -> pd.DataFrame:
    """Wins/ties/losses of each representation against ``reference`` (module rule)."""
    rows = []
    ref = summary[summary["rep"] == reference].set_index("task")
    for rep, sub in summary.groupby("rep", sort=False):
        if rep == reference:
            continue
        w = t = lo = 0
        for r in sub.itertuples():
            if r.task not in ref.index:
                continue
            rm, rs = ref.loc[r.task, "mean"], ref.loc[r.task, "std"]
            if abs(r.mean - rm) <= r.std + rs:
                t += 1
            elif (r.mean > rm) == bool(r.higher_is_better):
                w += 1
            else:
                lo += 1
        rows.append({"rep": rep, "win": w, "tie": t, "loss": lo})
    return pd.DataFrame(rows, columns=["rep", "win", "tie", "loss"])


def markdown_report(summary: pd.DataFrame, title: str, reference: str = "ecfp") -> str:
    """Markdown: per-task mean ± std (best in bold), mean ranks, win/tie/loss."""
    reps = list(dict.fromkeys(summary["rep"]))
    lines = [f"# {title}", "", "| task | metric | " + " | ".join(reps) + " |",
             "|---|---|" + "---|" * len(reps)]  # fmt: skip
    for task, sub in summary.groupby("task", sort=False):
        sub = sub.set_index("rep")
        hib = bool(sub["higher_is_better"].iloc[0])
        means = sub["mean"]
        best = means.max() if hib else means.min()
        cells = []
        for rep in reps:
            if rep not in sub.index or pd.isna(sub.loc[rep, "mean"]):
                cells.append("-")
                continue
            m, s, n = sub.loc[rep, "mean"], sub.loc[rep, "std"], sub.loc[rep, "n_seeds"]
            txt = f"{m:.3f} ± {s:.3f}" + (f" (n={n})" if n < summary["n_seeds"].max() else "")
            cells.append(f"**{txt}**" if m == best else txt)
        arrow = "↑" if hib else "↓"
        shown = f"{task} †" if overlaps_minimol_pretraining(str(task)) else task
        lines.append(f"| {shown} | {sub['metric'].iloc[0]} {arrow} | " + " | ".join(cells) + " |")
    ranks = mean_ranks(summary)
    table = rank_table(summary)
    n_tasks = len(table)
    marked = [t for t in table.index if overlaps_minimol_pretraining(str(t))]
    if marked and len(marked) < n_tasks:
        clean = table.drop(index=marked).mean(axis=0)
        lines += ["", f"## Mean rank (over {n_tasks} tasks with every representation; 1 = best)",
                  "", f"† {', '.join(marked)}: source assays likely in MiniMol's pre-training "
                  "(docs/minimol.md); the last column ranks without them.", "",
                  f"| rep | mean rank | without † ({n_tasks - len(marked)} tasks) |",
                  "|---|---|---|"]  # fmt: skip
        lines += [f"| {rep} | {r:.2f} | {clean[rep]:.2f} |" for rep, r in ranks.items()]
    else:
        lines += ["", f"## Mean rank (over {n_tasks} tasks with every representation; 1 = best)",
                  "", "| rep | mean rank |", "|---|---|"]  # fmt: skip
        lines += [f"| {rep} | {r:.2f} |" for rep, r in ranks.items()]
    scores = mean_scores(summary)
    if len(scores):
        lines += ["", "## Mean score per metric (same tasks; per-task means averaged)", "",
                  "| metric | tasks | " + " | ".join(reps) + " |",
                  "|---|---|" + "---|" * len(reps)]  # fmt: skip
        for metric, row in scores.iterrows():
            vals = row[reps].astype(float)
            best = vals.max()
            cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in vals]
            lines.append(f"| {metric} ↑ | {int(row['n_tasks'])} | " + " | ".join(cells) + " |")
    if reference in reps and len(reps) > 1:
        wtl = win_tie_loss(summary, reference)
        lines += ["", f"## Win / tie / loss vs {reference} (tie: mean ± std intervals overlap)",
                  "", "| rep | win | tie | loss |", "|---|---|---|---|"]  # fmt: skip
        lines += [f"| {r.rep} | {r.win} | {r.tie} | {r.loss} |" for r in wtl.itertuples()]
    invalid = summary[summary["n_invalid_test"] > 0]
    if len(invalid):
        lines += ["", "Rows invalid for a representation were imputed with the train mean:", ""]
        lines += [f"- {r.task} / {r.rep}: {r.n_invalid_test} test rows, "
                  f"{r.n_invalid_train} train rows" for r in invalid.itertuples()]  # fmt: skip
    return "\n".join(lines) + "\n"


_KIND_COLORS = {
    "student": "tab:blue",
    "random-init student": "tab:gray",
    "ECFP": "tab:red",
    "teacher / other": "tab:orange",
}


def rep_kind(rep: str) -> str:
    """Colour group of a representation spec in the plots."""
    if rep.startswith("random-student"):
        return "random-init student"
    if rep.startswith("student"):
        return "student"
    if rep.startswith("ecfp"):
        return "ECFP"
    return "teacher / other"


def plot_tasks(summary: pd.DataFrame, path: Path, title: str = "") -> Path:
    """One panel per task: horizontal bars = reps (mean), error bars = std over seeds.

    Representations keep one order in every panel and are named on the first panel of each
    row; colours group them (students, random-init students, ECFP, teachers).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    tasks = list(dict.fromkeys(summary["task"]))
    reps = list(dict.fromkeys(summary["rep"]))
    ncol = min(4, len(tasks))
    nrow = int(np.ceil(len(tasks) / ncol))
    panel_height = 0.17 * len(reps) + 0.9
    fig = Figure(figsize=(3.0 * ncol + 2.2, panel_height * nrow + 0.6))
    axes = fig.subplots(nrow, ncol, squeeze=False, sharey=True)
    kinds = [rep_kind(r) for r in reps]
    colors = [_KIND_COLORS[k] for k in kinds]
    y = np.arange(len(reps))
    for ax, task in zip(axes.flat, tasks):
        sub = summary[summary["task"] == task].set_index("rep").reindex(reps)
        ax.barh(y, sub["mean"], xerr=sub["std"], color=colors, capsize=2, height=0.75)
        arrow = "↑" if bool(sub["higher_is_better"].dropna().iloc[0]) else "↓"
        ax.set_title(f"{task}\n{sub['metric'].dropna().iloc[0]} {arrow}", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        lo = np.nanmin(sub["mean"] - sub["std"])
        hi = np.nanmax(sub["mean"] + sub["std"])
        pad = 0.1 * (hi - lo) + 1e-6
        ax.set_xlim(lo - pad, hi + pad)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_yticks(y)
        ax.set_yticklabels(reps, fontsize=7)
    axes[0, 0].invert_yaxis()  # shared: first representation on top in every panel
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    present = list(dict.fromkeys(kinds))
    fig.legend(
        handles=[Patch(color=_KIND_COLORS[k], label=k) for k in present],
        loc="upper right", ncol=len(present), fontsize=8, frameon=False,
    )  # fmt: skip
    if title:
        fig.suptitle(title, fontsize=10, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def plot_ranks(summary: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Mean rank per representation (horizontal bars, best on top), with per-task dots."""
    from matplotlib.figure import Figure

    table = rank_table(summary)
    order = table.mean(axis=0).sort_values(ascending=False).index.tolist()
    fig = Figure(figsize=(5, 0.5 * len(order) + 1.2))
    ax = fig.subplots()
    ax.barh(range(len(order)), table[order].mean(axis=0), color="tab:blue", alpha=0.6)
    rng = np.random.default_rng(0)
    for i, rep in enumerate(order):
        jitter = rng.uniform(-0.2, 0.2, len(table))
        ax.scatter(table[rep], i + jitter, s=8, color="k", alpha=0.5)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels(order)
    ax.set_xlabel(f"rank within task (1 = best), {len(table)} tasks")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def write_report(
    results: pd.DataFrame, out_dir: Path, tag: str, title: str, reference: str = "ecfp"
) -> dict[str, Path]:
    """Write ``summary_<tag>.csv``, ``report_<tag>.md`` and the two PNGs; return paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    paths = {
        "summary": out_dir / f"summary_{tag}.csv",
        "markdown": out_dir / f"report_{tag}.md",
        "tasks_png": out_dir / f"tasks_{tag}.png",
        "ranks_png": out_dir / f"ranks_{tag}.png",
    }
    from molmtd.utils import atomic_write_text

    atomic_write_text(paths["summary"], summary.to_csv(index=False))
    atomic_write_text(paths["markdown"], markdown_report(summary, title, reference))
    plot_tasks(summary, paths["tasks_png"], title)
    if summary["rep"].nunique() > 1 and len(rank_table(summary)):
        plot_ranks(summary, paths["ranks_png"], title)
    else:
        paths.pop("ranks_png")
    return paths


def leaderboard_comparison(summary: pd.DataFrame, reference_csv: Path) -> str:
    """Markdown table: our mean ± std per task/rep next to published leaderboard entries.

    ``reference_csv`` has columns ``task,entry,mean,std`` (transcribed published values;
    see ``benchmarks/results/tdc_admet/leaderboard_reference.csv`` and its provenance note
    in docs/benchmarks.md). "better" applies the metric's direction to the means only.
    """
    ref = pd.read_csv(reference_csv)
    entries = list(dict.fromkeys(ref["entry"]))
    reps = list(dict.fromkeys(summary["rep"]))
    head = ["task", "metric", *reps, *entries]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task, sub in summary.groupby("task", sort=False):
        sub = sub.set_index("rep")
        hib = bool(sub["higher_is_better"].iloc[0])
        cells = [task, sub["metric"].iloc[0] + (" ↑" if hib else " ↓")]
        for rep in reps:
            cells.append(
                f"{sub.loc[rep, 'mean']:.3f} ± {sub.loc[rep, 'std']:.3f}"
                if rep in sub.index
                else "-"
            )
        for entry in entries:
            r = ref[(ref["task"] == task) & (ref["entry"] == entry)]
            cells.append(f"{r['mean'].iloc[0]:.3f} ± {r['std'].iloc[0]:.3f}" if len(r) else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    # count tasks where each rep beats each entry on the mean
    lines.append("")
    for rep in reps:
        for entry in entries:
            wins = total = 0
            for task, sub in summary[summary["rep"] == rep].groupby("task"):
                r = ref[(ref["task"] == task) & (ref["entry"] == entry)]
                if not len(r):
                    continue
                total += 1
                m = sub["mean"].iloc[0]
                hib = bool(sub["higher_is_better"].iloc[0])
                wins += (m > r["mean"].iloc[0]) if hib else (m < r["mean"].iloc[0])
            if total:
                lines.append(f"- {rep} better than {entry} (mean) on {wins}/{total} tasks")
    return "\n".join(lines) + "\n"
