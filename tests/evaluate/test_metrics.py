"""Metrics agree with sklearn/scipy; multi-task masking and single-class columns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import (
    average_precision_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from molmtd.evaluate.metrics import get_metric, score


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    p = y + rng.normal(size=200)
    yb = (rng.random(200) < 0.3).astype(float)
    pb = np.clip(yb * 0.3 + rng.random(200) * 0.7, 0, 1)
    return y, p, yb, pb


def test_against_reference(data):
    y, p, yb, pb = data
    assert score("mae", y, p)[0] == pytest.approx(mean_absolute_error(y, p))
    assert score("rmse", y, p)[0] == pytest.approx(np.sqrt(mean_squared_error(y, p)))
    assert score("r2", y, p)[0] == pytest.approx(r2_score(y, p))
    assert score("spearman", y, p)[0] == pytest.approx(spearmanr(y, p)[0])
    assert score("auroc", yb, pb)[0] == pytest.approx(roc_auc_score(yb, pb))
    assert score("auprc", yb, pb)[0] == pytest.approx(average_precision_score(yb, pb))
    assert not get_metric("mae").higher_is_better and get_metric("auprc").higher_is_better


def test_multitask_masking_and_single_class(data):
    _, _, yb, pb = data
    y = np.stack([yb, yb.copy(), np.zeros_like(yb)], axis=1)
    y[::3, 1] = np.nan
    p = np.stack([pb, pb, pb], axis=1)
    ok = ~np.isnan(y[:, 1])
    expected = np.mean([roc_auc_score(yb, pb), roc_auc_score(yb[ok], pb[ok])])
    value, n = score("auroc", y, p)
    assert n == 2  # the all-zero column cannot be scored and is skipped
    assert value == pytest.approx(expected)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        score("mae", np.zeros(3), np.zeros(4))
