"""Applicability-domain score: the reference, the Featurizer attribute, the CLI column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from trust_helpers import real_smiles, save_student

from molmtd.domain import DOMAIN_FILE, DomainReference
from molmtd.featurizer import Featurizer
from molmtd.models import ModelFileError, load_model, sha256_file


def test_reference_scores_its_own_distribution_near_one() -> None:
    rng = np.random.default_rng(0)
    ref = DomainReference.build(rng.normal(size=(500, 16)), k=5)
    inside = ref.score(rng.normal(size=(200, 16)))
    outside = ref.score(rng.normal(size=(200, 16)) + 4.0)
    assert 0.8 < np.median(inside) < 1.3
    assert outside.min() > inside.max()
    X = rng.normal(size=(3, 16))
    X[1] = np.nan
    assert np.isnan(ref.score(X)).tolist() == [False, True, False]


def test_pca_reference_and_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    mixing = rng.normal(size=(8, 40))
    X = rng.normal(size=(300, 8)) @ mixing  # rank 8 in 40 dims
    ref = DomainReference.build(X, k=3, components=8)
    assert ref.reference.shape == (300, 8)
    full = DomainReference.build(X, k=3)
    query = rng.normal(size=(50, 8)) @ mixing  # in the same subspace
    np.testing.assert_allclose(ref.score(query), full.score(query), rtol=1e-3)  # exact rank
    ref.save(tmp_path / DOMAIN_FILE)
    back = DomainReference.load(tmp_path / DOMAIN_FILE)
    np.testing.assert_array_equal(back.score(query), ref.score(query))


def _with_domain(folder: Path) -> Path:
    smiles = real_smiles(200)
    X = Featurizer(model=folder).transform(smiles[:150])
    DomainReference.build(X, k=5, components=16).save(folder / DOMAIN_FILE)
    card = json.loads((folder / "card.json").read_text())
    card["domain"] = {"sha256": sha256_file(folder / DOMAIN_FILE)}
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _with_domain(save_student(tmp_path_factory.mktemp("dom") / "m"))


def test_featurizer_domain_score(model: Path) -> None:
    smiles = real_smiles(200)
    held_out = smiles[150:]
    odd = ["[U]", "C" * 80, "FC(F)(F)C(F)(F)C(F)(F)C(F)(F)C(F)(F)F", "[Xe]"]
    feat = Featurizer(model=model, on_error="nan")
    X = feat.transform([*held_out, "not a smiles", *odd])
    score = feat.domain_score_
    assert score.shape == (len(X),) and score.dtype == np.float32
    assert np.isnan(score[len(held_out)]) and np.isfinite(np.delete(score, len(held_out))).all()
    assert np.median(score[-len(odd) :]) > np.median(score[: len(held_out)])
    assert feat.provenance_["domain_reference"] is True


def test_no_reference_gives_nan(tmp_path: Path) -> None:
    feat = Featurizer(model=save_student(tmp_path / "m"))
    feat.transform(["CCO", "CCN"])
    assert np.isnan(feat.domain_score_).all() and feat.provenance_["domain_reference"] is False


def test_tampered_reference_is_caught(tmp_path: Path) -> None:
    folder = _with_domain(save_student(tmp_path / "m"))
    path = folder / DOMAIN_FILE
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"domain\.safetensors"):
        load_model(folder)


def test_cli_domain_score_column(model: Path, tmp_path: Path) -> None:
    from molmtd.cli import main

    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCO", "bad", "c1ccccc1O"]}).to_csv(src, index=False)
    out = tmp_path / "o.csv"
    assert main(["featurize", str(src), "-o", str(out), "--model", str(model)]) == 0
    table = pd.read_csv(out)
    assert table["domain_score"].isna().tolist() == [False, True, False]
    npy = tmp_path / "o.npy"
    assert main(["featurize", str(src), "-o", str(npy), "--model", str(model)]) == 0
    np.testing.assert_allclose(
        np.load(tmp_path / "o.domain_score.npy"), table["domain_score"], rtol=1e-5
    )


def test_shipped_default_has_a_reference_when_built() -> None:
    backbone = load_model("default")
    card = backbone.meta["card"]
    if "domain" not in card:
        pytest.skip("the default model ships no domain reference")
    assert backbone.domain is not None and backbone.domain.k == card["domain"]["k"]
    feat = Featurizer()
    feat.transform(["CCO", "CC(=O)Nc1ccc(O)cc1"])
    assert np.isfinite(feat.domain_score_).all()
