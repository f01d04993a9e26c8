"""Standardisation: the shared function, the Featurizer option, the CLI flag, representations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem
from trust_helpers import save_student

from molmtd.featurizer import Featurizer
from molmtd.standardize import standardize_mol, standardize_smiles

SALTS = {
    "CCN.Cl": ("CCN", "CCN"),
    "CC[NH3+].[Cl-]": ("CC[NH3+]", "CCN"),
    "O=C([O-])c1ccccc1.[Na+]": ("O=C([O-])c1ccccc1", "O=C(O)c1ccccc1"),
    "C[N+](C)(C)C.[Br-]": ("C[N+](C)(C)C", "C[N+](C)(C)C"),  # quaternary: stays charged
    "CC(=O)[O-].CC(=O)[O-].[Mg+2]": ("CC(=O)[O-]", "CC(=O)O"),
    "CCO.O.O": ("CCO", "CCO"),
    "c1ccccc1": ("c1ccccc1", "c1ccccc1"),
    "F[P-](F)(F)(F)(F)F": ("F[P-](F)(F)(F)(F)F", "F[P-](F)(F)(F)(F)F"),  # no neutral form
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_student(tmp_path_factory.mktemp("std") / "m")


@pytest.mark.parametrize("smiles", list(SALTS))
def test_standardize_smiles(smiles: str) -> None:
    fragment, parent = SALTS[smiles]
    assert standardize_smiles(smiles, "largest_fragment") == Chem.CanonSmiles(fragment)
    assert standardize_smiles(smiles, "parent") == Chem.CanonSmiles(parent)
    assert standardize_smiles(smiles, "none") == Chem.CanonSmiles(smiles)


def test_unchanged_molecule_is_the_same_object_and_input_untouched() -> None:
    mol = Chem.MolFromSmiles("CCO")
    assert standardize_mol(mol, "parent") is mol
    salt = Chem.MolFromSmiles("CC[NH3+].[Cl-]")
    assert Chem.MolToSmiles(standardize_mol(salt, "parent")) == "CCN"
    assert Chem.MolToSmiles(salt) == "CC[NH3+].[Cl-]"  # the caller's Mol is not modified


def test_bad_inputs_and_modes() -> None:
    assert standardize_smiles("C1CC", "parent") is None
    assert standardize_smiles("", "parent") is None
    with pytest.raises(ValueError, match="'cleanup'"):
        standardize_smiles("CCO", "cleanup")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="standardize must be"):
        Featurizer(standardize="cleanup").fit(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_featurizer_salts_embed_like_their_parent(
    model: Path, monkeypatch: pytest.MonkeyPatch, n_jobs: int
) -> None:
    import molmtd.student.runtime as runtime

    monkeypatch.setattr(runtime, "CHUNK", 4)
    monkeypatch.setattr(runtime, "MIN_POOL_ITEMS", 8)
    salts = list(SALTS)
    parents = [SALTS[s][1] for s in salts]
    plain = Featurizer(model=model).transform(salts)
    std = Featurizer(model=model, standardize="parent", n_jobs=n_jobs).transform(salts)
    ref = Featurizer(model=model).transform(parents)
    np.testing.assert_allclose(std, ref, rtol=0, atol=1e-5)
    assert np.abs(plain[0] - ref[0]).max() > 1e-3  # without it, CCN.Cl is not CCN
    frag = Featurizer(model=model, standardize="largest_fragment").transform(salts)
    np.testing.assert_allclose(
        frag, Featurizer(model=model).transform([SALTS[s][0] for s in salts]), atol=1e-5
    )


def test_featurizer_mols_are_standardised_too(model: Path) -> None:
    mols = [Chem.MolFromSmiles(s) for s in SALTS]
    X = Featurizer(model=model, standardize="parent").transform(mols)
    ref = Featurizer(model=model).transform([SALTS[s][1] for s in SALTS])
    np.testing.assert_allclose(X, ref, rtol=0, atol=1e-5)


def test_auto_reads_the_model_card(tmp_path: Path) -> None:
    trained = save_student(tmp_path / "p", standardize="parent")
    assert Featurizer(model=trained)._standardize_mode() == "parent"
    X = Featurizer(model=trained).transform(["CCN.Cl"])
    np.testing.assert_allclose(X, Featurizer(model=trained).transform(["CCN"]), atol=1e-5)
    plain = save_student(tmp_path / "n")
    assert Featurizer(model=plain)._standardize_mode() == "none"
    assert Featurizer()._standardize_mode() == "none"  # shipped models: trained without


def test_cli_standardize_flag(model: Path, tmp_path: Path) -> None:
    from molmtd.cli import main
    from molmtd.provenance import read_provenance

    src = tmp_path / "in.smi"
    src.write_text("CCN.Cl\nCCN\n")
    out = tmp_path / "o.npy"
    argv = ["featurize", str(src), "-o", str(out), "--model", str(model)]
    assert main([*argv, "--standardize", "parent"]) == 0
    X = np.load(out)
    np.testing.assert_allclose(X[0], X[1], atol=1e-5)
    assert read_provenance(out)["standardize"] == "parent"
    assert main(argv) == 0
    assert np.abs(np.load(out)[0] - np.load(out)[1]).max() > 1e-3


def test_representation_suffix(tmp_path: Path) -> None:
    from molmtd.evaluate.representations import cached_embed, get_representation

    smiles = ["CCN.Cl", "CCN", "C1CC", "CC[NH3+].[Cl-]"]
    rep = get_representation("ecfp@parent")
    assert rep.config["standardize"] == "parent" and rep.name == "ecfp@parent"
    X, mask, _ = cached_embed(rep, smiles, "t", cache_dir=tmp_path)
    assert mask.tolist() == [True, True, False, True]
    np.testing.assert_array_equal(X[0], X[1])
    np.testing.assert_array_equal(X[3], X[1])
    plain, _, _ = cached_embed(get_representation("ecfp"), smiles, "t", cache_dir=tmp_path)
    assert not np.array_equal(plain[0], plain[1])
    frag = get_representation("student:default@largest_fragment")
    assert frag.config["standardize"] == "largest_fragment" and frag.config["rep"] == "student"


def test_model_card_records_standardize_key_is_read(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m", standardize="largest_fragment")
    assert json.loads((folder / "card.json").read_text())["standardize"] == "largest_fragment"
    assert Featurizer(model=folder).provenance_["standardize"] == "largest_fragment"
