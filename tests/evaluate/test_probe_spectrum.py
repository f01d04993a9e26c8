"""benchmarks/checks/probe_spectrum.py: the held-out probe per principal component."""

from __future__ import annotations

import numpy as np
import pytest
from script_loader import load_script


def _module():
    return load_script("benchmarks/checks/probe_spectrum.py")


def _teacher(n: int = 600, seed: int = 0) -> np.ndarray:
    """Rows with a known spectrum: 8 latent directions of falling variance, mixed into 12."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 8)) * np.array([8, 6, 4, 3, 2, 1.5, 1, 0.5])
    mix, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    return latent @ mix[:8] + 1e-3 * rng.standard_normal((n, 12))


def test_a_representation_holding_the_leading_components_recovers_only_those():
    mod = _module()
    T = _teacher()
    train, test = np.arange(400), np.arange(400, 600)
    pcs, share = mod.principal_components(T, train)
    assert share[:8].sum() == pytest.approx(1.0, abs=1e-4)
    X = pcs[:, :3] + 0.01 * np.random.default_rng(1).standard_normal((600, 3))
    table, summary = mod.probe_spectrum(X, T, train, test)
    assert (table["r2"].iloc[:3] > 0.99).all()
    assert (table["r2"].iloc[3:8] < 0.1).all()
    # the leading three hold 61/74 of the variance: weighted R² near that share, and
    # above the pooled R² over standardised dimensions, which weights every dimension alike
    assert summary["r2_variance_weighted"] == pytest.approx(share[:3].sum(), abs=0.03)
    assert summary["r2_pooled_standardised"] < summary["r2_variance_weighted"]


def test_affine_r2_rescales_each_column_only():
    mod = _module()
    T = _teacher()
    train, test = np.arange(400), np.arange(400, 600)
    assert mod.affine_r2(3 * T - 2, T, train, test) == pytest.approx(1.0)
    # a column permutation would be undone by a probe across columns, never by this
    assert mod.affine_r2(T[:, ::-1], T, train, test) < 0.5
