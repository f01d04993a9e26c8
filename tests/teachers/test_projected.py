"""Tests of teachers projected onto their principal components (molmtd.teachers.projected)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from molmtd.store import TeacherStore, build_teacher
from molmtd.teachers import get_teacher
from molmtd.teachers.base import teacher_family
from molmtd.teachers.projected import ProjectedTeacher

SMILES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CC(=O)Nc1ccc(O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "OC(=O)c1ccccc1O",
    "Clc1ccc(cc1)C(c1ccccc1)N1CCN(CC1)CCOCC(=O)O",
    "CS(=O)(=O)c1ccc(cc1)C1=C(C(=O)OC1)c1ccccc1",
    "COc1ccc2[nH]cc(CCNC(C)=O)c2c1",
    "CC1(C)S[C@@H]2[C@H](NC(=O)Cc3ccccc3)C(=O)N2[C@H]1C(=O)O",
    "FC(F)(F)c1ccc(OC(CCNC)c2ccccc2)cc1",
    "O=C(O)C[C@@](O)(CC(=O)O)C(=O)O",
    "c1ccc2ccccc2c1",
    "CCOC(=O)C1=CC=CC=C1N",
    "CCN(CC)CCOC(=O)c1ccc(N)cc1",
    "C1CCC(CC1)N",
    "OCC(O)CO",
    "CC(C)NCC(O)c1ccc(O)c(O)c1",
]


def test_names_resolve_to_projections_of_registered_teachers():
    teacher = get_teacher("maccs-pca8")
    assert isinstance(teacher, ProjectedTeacher)
    assert (teacher.name, teacher.dim, teacher.base.name) == ("maccs-pca8", 8, "maccs")
    assert teacher_family("maccs-pca8") == teacher_family("maccs")
    assert teacher_family("nope-pca8") is None
    with pytest.raises(KeyError, match="nope"):
        get_teacher("nope-pca8")
    with pytest.raises(ValueError, match="167 dimensions"):
        get_teacher("maccs-pca500")


def test_projection_is_the_top_principal_components():
    teacher = get_teacher("maccs-pca5")
    with pytest.raises(RuntimeError, match="requires fit"):
        teacher.embed(SMILES[:2])
    teacher.fit(SMILES)
    base, _ = teacher.base.embed(SMILES)
    x, mask = teacher.embed(SMILES)
    assert mask.all() and x.shape == (len(SMILES), 5) and x.dtype == np.float32
    centred = base.astype(np.float64) - base.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    reference = centred @ vt[:5].T
    # the same axes up to sign, in the order of the variance they explain
    np.testing.assert_allclose(np.abs(x), np.abs(reference), atol=1e-4)
    variances = x.var(0)
    assert np.all(np.diff(variances) <= 1e-6)
    expected = float((s[:5] ** 2).sum() / (s**2).sum())
    assert teacher.config["explained_variance_ratio"] == pytest.approx(expected, abs=1e-5)
    assert teacher.config["basis_sha256"] == teacher.basis_sha256()


def test_invalid_molecules_stay_masked_and_the_fit_is_deterministic():
    first = get_teacher("maccs-pca4").fit(SMILES)
    second = pickle.loads(pickle.dumps(get_teacher("maccs-pca4").fit(SMILES[::-1])))
    x, mask = first.embed(["CCO", "not_a_smiles", "c1ccccc1"])
    assert mask.tolist() == [True, False, True]
    assert np.isnan(x[1]).all() and np.isfinite(x[[0, 2]]).all()
    # the fit does not depend on the order of the molecules, and survives pickling
    assert first.config["basis_sha256"] is not None
    y, _ = second.embed(["CCO", "c1ccccc1"])
    np.testing.assert_allclose(x[[0, 2]], y, atol=1e-5)


def test_a_fitted_base_teacher_is_fitted_first():
    teacher = get_teacher("rdkit2d-pca3").fit(SMILES)
    assert teacher.base.is_fitted and teacher.config["base_config"]["median"] is not None
    x, mask = teacher.embed(SMILES[:4])
    assert mask.all() and np.isfinite(x).all()


def test_store_build_records_the_projection_and_resumes(tmp_path: Path):
    store = TeacherStore.create(tmp_path / "s", SMILES, chunk_size=7)
    rec = build_teacher(store, get_teacher("maccs-pca4"), n_jobs=1, progress=False, fit_n=None)
    assert rec["status"] == "complete" and rec["dim"] == 4
    assert rec["family"] == teacher_family("maccs")
    assert rec["config"]["base"] == "maccs" and rec["config"]["n_fit"] == len(SMILES)
    x, mask = TeacherStore.open(tmp_path / "s").read_all("maccs-pca4")
    assert mask.all() and x.shape == (len(SMILES), 4)
    # a rerun reloads the fitted projection (same config hash) and computes nothing
    again = build_teacher(store, get_teacher("maccs-pca4"), n_jobs=1, progress=False, fit_n=None)
    assert again["config_hash"] == rec["config_hash"]
    assert again["builds"][-1]["rows_computed"] == 0


def test_cli_accepts_projected_names(tmp_path: Path):
    smi = tmp_path / "c.smi"
    smi.write_text("\n".join(SMILES) + "\n")
    cmd = [sys.executable, "-m", "molmtd.cli", "teachers", "build", "--corpus", str(smi)]
    cmd += ["--seed", "-1", "--out", str(tmp_path / "s"), "--teachers", "maccs-pca6"]
    done = subprocess.run([*cmd, "--no-progress", "--fit-n", "0"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert TeacherStore.open(tmp_path / "s").teachers["maccs-pca6"]["dim"] == 6
    bad = subprocess.run([*cmd[:-1], "nope-pca6"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nope-pca6" in bad.stderr
