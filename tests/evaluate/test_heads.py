"""Heads learn a simple signal, select on valid, and impute invalid rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from molmtd.evaluate.heads import Standardizer, make_head


def _data(task_type: str, n: int = 300, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=d)
    z = X @ w
    y = (z > 0).astype(float) if task_type == "classification" else z + 0.1 * rng.normal(size=n)
    return X, y[:, None]


@pytest.mark.parametrize("head", ["mlp", "linear", "lgbm"])
@pytest.mark.parametrize("task_type", ["regression", "classification"])
def test_head_beats_trivial(head, task_type):
    X, y = _data(task_type)
    tr, va, te = slice(0, 200), slice(200, 250), slice(250, 300)
    h = make_head(head, task_type, seed=0, quick=True)
    h.fit(X[tr], y[tr], X[va], y[va])
    p = h.predict(X[te])
    assert p.shape == y[te].shape
    if task_type == "classification":
        assert roc_auc_score(y[te, 0], p[:, 0]) > 0.8
        assert np.all((p >= 0) & (p <= 1))
    else:
        mse = np.mean((p - y[te]) ** 2)
        assert mse < 0.5 * np.var(y[te])


def test_mlp_masks_missing_labels():
    X, y = _data("classification")
    y2 = np.concatenate([y, y], axis=1)
    y2[::2, 1] = np.nan
    h = make_head("mlp", "classification", seed=0, quick=True)
    h.fit(X[:200], y2[:200], X[200:250], y2[200:250])
    p = h.predict(X[250:])
    assert np.isfinite(p).all() and p.shape == (50, 2)


def test_standardizer_imputes_invalid_rows_with_train_mean():
    X = np.array([[1.0, 2.0], [3.0, 6.0], [np.nan, np.nan]], dtype=np.float32)
    mask = np.array([True, True, False])
    s = Standardizer().fit(X, mask)
    Z = s.transform(X, mask)
    assert np.allclose(Z[:2].mean(axis=0), 0) and np.allclose(Z[2], 0)
