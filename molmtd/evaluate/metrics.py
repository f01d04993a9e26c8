"""Benchmark metrics (TDC definitions) with NaN-label masking for multi-task sets.

TDC's ``evaluate`` uses sklearn/scipy directly: MAE = ``mean_absolute_error``, Spearman =
``scipy.stats.spearmanr``, AUROC = ``roc_auc_score``, AUPRC = ``average_precision_score``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def r2(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y, p))


def spearman(y: np.ndarray, p: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(y, p)[0])


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, p))


@dataclass(frozen=True)
class Metric:
    """A metric and its direction."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool
    needs_both_classes: bool = False


METRICS: dict[str, Metric] = {
    "mae": Metric("mae", mae, higher_is_better=False),
    "rmse": Metric("rmse", rmse, higher_is_better=False),
    "r2": Metric("r2", r2, higher_is_better=True),
    "spearman": Metric("spearman", spearman, higher_is_better=True),
    "auroc": Metric("auroc", auroc, higher_is_better=True, needs_both_classes=True),
    "auprc": Metric("auprc", auprc, higher_is_better=True, needs_both_classes=True),
}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise KeyError(f"unknown metric {name!r}; known: {sorted(METRICS)}")
    return METRICS[name]


def score(metric: str, y: np.ndarray, pred: np.ndarray) -> tuple[float, int]:
    """Score predictions, averaging over label columns with missing labels masked.

    Parameters
    ----------
    metric
        Metric name.
    y, pred
        Arrays [N] or [N, T]; NaN in ``y`` marks a missing label.

    Returns
    -------
    value, n_scored
        Mean over the label columns that could be scored, and how many columns that was
        (a classification column whose non-missing labels have a single class is skipped,
        as in OGB/MoleculeNet practice). ``nan, 0`` if none could be scored.
    """
    m = get_metric(metric)
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if y.ndim == 1:
        y, pred = y[:, None], pred[:, None]
    if y.shape != pred.shape:
        raise ValueError(f"shape mismatch: y {y.shape} vs pred {pred.shape}")
    values = []
    for t in range(y.shape[1]):
        ok = ~np.isnan(y[:, t])
        yt, pt = y[ok, t], pred[ok, t]
        if len(yt) < 2:
            continue
        if m.needs_both_classes and len(np.unique(yt)) < 2:
            continue
        if np.any(~np.isfinite(pt)):
            raise ValueError(f"non-finite predictions in label column {t}")
        values.append(m.fn(yt, pt))
    if not values:
        return float("nan"), 0
    return float(np.mean(values)), len(values)
