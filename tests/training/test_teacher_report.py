"""``molmtd report-teachers``: held-out linear probes per teacher and kernel diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from molmtd_train_helpers import nci_targets

from molmtd.cli import main
from molmtd.evaluate.teacher_report import descriptor_group, linear_probe, pooled_r2, split_rows


def test_linear_probe_recovers_the_known_r2() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    signal = X @ rng.normal(size=(5, 3))
    # noise with the signal's variance per dimension: R² = 0.5 in expectation
    T = signal + rng.normal(size=signal.shape) * signal.std(0)
    T = np.c_[T, np.ones(3000)]  # a constant dimension is not scored
    train, test = split_rows(3000, 1 / 3, seed=0)
    res = linear_probe(X, T, train, test)
    assert res.n_dims == 3 and np.isnan(res.r2_per_dim[3])
    assert res.r2_pooled == pytest.approx(0.5, abs=0.04)
    assert pooled_r2(res, np.array([0, 3])) == pytest.approx(res.r2_per_dim[0])
    unrelated = linear_probe(rng.normal(size=(3000, 5)), T, train, test)
    assert unrelated.r2_pooled < 0.02


def test_descriptor_groups() -> None:
    assert descriptor_group("fr_benzene") == "fragment counts (fr_*)"
    assert descriptor_group("PEOE_VSA3").startswith("surface-area")
    assert descriptor_group("MolLogP").startswith("size and physchem")
    assert descriptor_group("NumHDonors").startswith("atom, ring")
    assert descriptor_group("Chi1v").startswith("topological")


@pytest.fixture(scope="module")
def heldout_store(tmp_path_factory):
    from molmtd.store import TeacherStore, build_teacher
    from molmtd.teachers.base import get_teacher

    path = tmp_path_factory.mktemp("store") / "nci"
    smiles, _ = nci_targets(240)
    store = TeacherStore.create(path, smiles, chunk_size=128)
    for name in ("maccs", "erg"):
        build_teacher(store, get_teacher(name), n_jobs=1, progress=False)
    return path


def test_report_teachers_command(heldout_store, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert (
        main(
            [
                "distill",
                "--config",
                "small",
                "--store",
                str(heldout_store),
                "--out",
                str(run),
                "--no-progress",
                "--max-steps",
                "4",
                "--batch-size",
                "32",
                "--set",
                "backbone.hidden=32",
            ]
        )
        == 0
    )
    out = tmp_path / "report"
    models = f"student:{run},random-student:small,maccs"
    assert (
        main(
            [
                "report-teachers",
                "--store",
                str(heldout_store),
                "--models",
                models,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    probe = pd.read_csv(out / "probe.csv")
    assert len(probe) == 3 * 2 and set(probe["teacher"]) == {"maccs", "erg"}
    assert (probe["r2_pooled"] <= 1.0).all()
    # the teacher itself as the representation: the probe must find it (a check that can fail)
    self_fit = probe[(probe["representation"] == "maccs") & (probe["teacher"] == "maccs")]
    assert float(self_fit["r2_pooled"].iloc[0]) > 0.99
    assert set(probe.loc[probe["teacher"] == "maccs", "kind"]) == {"sparse"}
    kernels = pd.read_csv(out / "kernels.csv")
    assert set(kernels["representation"]) == {f"student:{run}"}
    assert set(kernels["teacher"]) == {"maccs", "erg"}
    assert np.isfinite(kernels["kernel_mi"]).all()
    assert (kernels["log_precision_q95"] <= 7.0).all()
    assert (out / "probe_r2.png").stat().st_size > 2000
    assert "What the student knows" in (out / "report.md").read_text()
