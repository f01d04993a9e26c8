"""The frozen-embedding protocol: task x representation x seed -> one scored test run.

For each task and representation the embedding of every row is computed once (cached);
for each seed the head is fitted on ``train``, selected on ``valid`` and scores ``test``
once. Results are appended to a CSV after every run, so an interrupted benchmark resumes
where it stopped (rows already present for (suite, task, rep, head, seed) are skipped).

Fit set of representations that need fitting (``rdkit2d``'s scaler): all non-test rows of
the task (TDC: ``train_val.csv``; MoleculeNet: train+valid of the scaffold split; paper
suite: train+valid of that seed's random split). No labels are used, test rows never are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molmtd.data.datasets import QUICK_TASKS, BenchmarkTask, load_task, suite_tasks
from molmtd.evaluate.heads import Standardizer, make_head
from molmtd.evaluate.metrics import get_metric, score
from molmtd.evaluate.representations import cached_embed, get_representation

log = logging.getLogger(__name__)

KEY_COLUMNS = ["suite", "task", "rep", "head", "seed"]


@dataclass
class BenchmarkConfig:
    """What to run; see ``molmtd benchmark --help``."""

    suite: str = "tdc-admet"
    reps: Sequence[str] = ("ecfp", "rdkit2d")
    head: str = "mlp"
    seeds: int = 5
    tasks: Sequence[str] | None = None
    quick: bool = False
    out: Path = Path("benchmarks/results")
    data_dir: Path | None = None
    cache_dir: Path | None = None
    reference: str = "ecfp"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def task_list(self) -> list[str]:
        if self.tasks:
            return list(self.tasks)
        return list(QUICK_TASKS[self.suite]) if self.quick else suite_tasks(self.suite)

    @property
    def seed_list(self) -> list[int]:
        return list(range(1, (2 if self.quick else self.seeds) + 1))

    @property
    def out_dir(self) -> Path:
        return Path(self.out) / self.suite.replace("-", "_")

    @property
    def tag(self) -> str:
        return f"{self.head}{'_quick' if self.quick else ''}"

    @property
    def results_path(self) -> Path:
        return self.out_dir / f"results_{self.tag}.csv"


def fit_rows(task: BenchmarkTask, seed: int) -> np.ndarray:
    """Rows a fitted representation may be fitted on: every non-test row (no labels)."""
    test = set(task.split(seed)["test"].tolist())
    return np.array([i for i in range(len(task)) if i not in test], dtype=np.int64)


def rank_target_transform(y: np.ndarray) -> np.ndarray:
    """``sign(y) * log1p(|y|)``: the training target for rank-scored (Spearman) tasks.

    Half-life, VDss and clearance are heavy-tailed; a squared loss on raw values is
    dominated by a few extreme molecules. The transform is monotone, so Spearman scores of
    predictions need no back-transform, and it uses no statistics of any split.
    """
    return np.sign(y) * np.log1p(np.abs(y))


def run_one(
    task: BenchmarkTask,
    X: np.ndarray,
    mask: np.ndarray,
    head_name: str,
    seed: int,
    quick: bool = False,
) -> dict[str, Any]:
    """Fit a head for one seed and score the test partition once.

    ``X``/``mask`` cover every row of ``task``; invalid rows get the train mean (counted).
    Spearman tasks train on :func:`rank_target_transform` of the labels.
    """
    import torch

    torch.set_num_threads(1)
    split = task.split(seed)
    tr, va, te = split["train"], split["valid"], split["test"]
    metric = get_metric(task.metric)
    std = Standardizer().fit(X[tr], mask[tr])
    Xtr, Xva, Xte = (std.transform(X[i], mask[i]) for i in (tr, va, te))
    head = make_head(head_name, task.task_type, seed, quick=quick)
    sign = 1.0 if metric.higher_is_better else -1.0

    def select(y: np.ndarray, p: np.ndarray) -> float:
        return sign * metric.fn(y, p)

    y_fit = rank_target_transform(task.y) if task.metric == "spearman" else task.y
    t0 = time.perf_counter()
    head.fit(Xtr, y_fit[tr], Xva, y_fit[va], select=select)
    pred = head.predict(Xte)
    if pred.shape != task.y[te].shape:
        raise RuntimeError(f"prediction shape {pred.shape} != labels {task.y[te].shape}")
    value, n_cols = score(task.metric, task.y[te], pred)
    valid_value, _ = score(task.metric, task.y[va], head.predict(Xva))
    return {
        "metric": task.metric,
        "score": value,
        "valid_score": valid_value,
        "higher_is_better": metric.higher_is_better,
        "n_label_cols_scored": n_cols,
        "n_train": len(tr),
        "n_valid": len(va),
        "n_test": len(te),
        "n_omitted": len(split.get("omitted", [])),
        "n_invalid_train": int((~mask[tr]).sum()),
        "n_invalid_valid": int((~mask[va]).sum()),
        "n_invalid_test": int((~mask[te]).sum()),
        "dim": X.shape[1],
        "epochs": getattr(head, "epochs_run", np.nan),
        "fit_seconds": round(time.perf_counter() - t0, 2),
    }


def load_results(path: Path) -> pd.DataFrame:
    if path.is_file() and path.stat().st_size > 0:
        return pd.read_csv(path)
    return pd.DataFrame(columns=KEY_COLUMNS)


def _append(path: Path, row: dict[str, Any]) -> None:
    """Add ``row`` to the results CSV: the file is rewritten beside and renamed, so a kill
    leaves either the old rows or all of them, never half a line."""
    from molmtd.utils import atomic_open

    df = pd.DataFrame([row])
    if path.is_file() and path.stat().st_size > 0:
        existing = pd.read_csv(path, dtype=str, keep_default_na=False)
        text = existing.to_csv(index=False) + df.reindex(columns=existing.columns).to_csv(
            index=False, header=False
        )
    else:
        text = df.to_csv(index=False)
    with atomic_open(path, "w") as fh:
        fh.write(text)


def run_benchmark(
    cfg: BenchmarkConfig, progress: bool = True, report_only: bool = False
) -> pd.DataFrame:
    """Run (or resume) a benchmark; returns the results table for this configuration.

    With ``report_only`` nothing is computed: the rows already in the results CSV that
    match the configuration are returned (missing task/rep/seed combinations stay missing).
    """
    import torch

    torch.set_num_threads(1)
    path = cfg.results_path
    done = load_results(path)
    done_keys = {tuple(r) for r in done[KEY_COLUMNS].astype(str).itertuples(index=False)}
    reps = {} if report_only else {spec: get_representation(spec) for spec in cfg.reps}
    for task_name in [] if report_only else cfg.task_list:
        todo = [
            (spec, seed)
            for spec in cfg.reps
            for seed in cfg.seed_list
            if (cfg.suite, task_name, spec, cfg.head, str(seed)) not in done_keys
        ]
        if not todo:
            continue
        task = load_task(cfg.suite, task_name, cfg.data_dir)
        if progress:
            print(f"[data] {task_name}: test set {task.test_set}; {task.source}", flush=True)
        for spec in dict.fromkeys(s for s, _ in todo):
            rep = reps[spec]
            emb: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
            for seed in [s for sp, s in todo if sp == spec]:
                fit_key: tuple = ()
                fit_smiles = None
                if getattr(rep, "requires_fit", False):
                    rows = fit_rows(task, seed)
                    fit_key = tuple(rows.tolist())
                    fit_smiles = [task.smiles[i] for i in rows]
                if fit_key not in emb:
                    t0 = time.perf_counter()
                    X, mask, hit = cached_embed(
                        rep, task.smiles, task.dataset_key, fit_smiles, cfg.cache_dir
                    )
                    emb[fit_key] = (X, mask)
                    if progress:
                        print(f"[embed] {task_name} {spec}: {X.shape} "
                              f"{'cache' if hit else f'{time.perf_counter() - t0:.1f}s'}, "
                              f"{int((~mask).sum())} invalid", flush=True)  # fmt: skip
                X, mask = emb[fit_key]
                res = run_one(task, X, mask, cfg.head, seed, quick=cfg.quick)
                row = {
                    "suite": cfg.suite, "task": task_name, "rep": spec, "head": cfg.head,
                    "seed": seed, **res, "task_type": task.task_type,
                    "source": task.source, "test_set": task.test_set,
                    "comparable": task.comparable,
                    "data_notes": ";".join(f"{k}={v}" for k, v in task.notes.items()),
                    "quick": cfg.quick,
                }  # fmt: skip
                _append(path, row)
                if progress:
                    print(f"[run] {task_name} {spec} seed={seed} {task.metric}="
                          f"{res['score']:.4f} (valid {res['valid_score']:.4f}, "
                          f"{res['fit_seconds']}s)", flush=True)  # fmt: skip
    results = load_results(path)
    sel = (results["suite"] == cfg.suite) & (results["head"] == cfg.head)
    sel &= results["rep"].isin(list(cfg.reps)) & results["task"].isin(cfg.task_list)
    sel &= results["seed"].astype(int).isin(cfg.seed_list)
    return results[sel].reset_index(drop=True)
