"""Representation specs, row alignment and the embedding cache."""

from __future__ import annotations

import numpy as np
import pytest

from molmtd.evaluate.representations import CallableRep, cached_embed, get_representation

SMILES = ["CCO", "c1ccccc1", "not-a-smiles", "CCO", "CC(=O)O"]


def test_ecfp_rows_align_and_invalid_masked(tmp_path):
    rep = get_representation("ecfp")
    X, mask, hit = cached_embed(rep, SMILES, "toy", cache_dir=tmp_path)
    assert not hit and X.shape == (5, 2048)
    assert mask.tolist() == [True, True, False, True, True]
    assert np.isnan(X[2]).all() and np.array_equal(X[0], X[3])
    assert X[0].sum() > 0 and np.all(X[mask] == np.round(X[mask]))  # raw counts
    X2, mask2, hit2 = cached_embed(rep, SMILES, "toy", cache_dir=tmp_path)
    assert hit2 and np.array_equal(mask, mask2) and np.allclose(X[mask], X2[mask])
    # a different row list under the same key is recomputed, never served stale
    _, _, hit3 = cached_embed(rep, SMILES[:2], "toy", cache_dir=tmp_path)
    assert not hit3


def test_callable_rep_and_unknown_spec(tmp_path):
    calls = []

    def fn(smiles):
        calls.append(len(smiles))
        return np.arange(len(smiles), dtype=np.float32)[:, None], np.ones(len(smiles), bool)

    rep = CallableRep(fn, "idx")
    X, mask, _ = cached_embed(rep, SMILES, "toy", cache_dir=tmp_path)
    assert calls == [4]  # unique SMILES embedded once
    assert X[0, 0] == X[3, 0] and mask.all()
    with pytest.raises(KeyError):
        get_representation("no-such-rep")


def test_rdkit2d_fitted_on_fit_set_only(tmp_path):
    rep = get_representation("rdkit2d")
    assert rep.requires_fit
    smiles = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    X, mask, _ = cached_embed(rep, smiles, "toy", fit_smiles=smiles[:4], cache_dir=tmp_path)
    assert mask.all() and X.shape[0] == 6
    X2, _, hit = cached_embed(rep, smiles, "toy", fit_smiles=smiles[:5], cache_dir=tmp_path)
    assert not hit and not np.allclose(X, X2)  # another fit set -> another scaling


def test_rdkit2d_raw_descriptors_computed_once_per_row_list(tmp_path, monkeypatch):
    """One fit set per seed (random splits) reuses the raw matrix; the scaling is refitted."""
    smiles = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    rep = get_representation("rdkit2d")
    calls = []
    raw_matrix = rep.teacher.raw_matrix
    monkeypatch.setattr(rep.teacher, "raw_matrix", lambda s: calls.append(len(s)) or raw_matrix(s))
    fits = [smiles[:4], smiles[1:5], smiles[2:]]
    got = [rep.embed(smiles, fit_smiles=f)[0] for f in fits]
    assert calls == [6]
    for f, X in zip(fits, got):
        fresh = get_representation("rdkit2d").embed(smiles, fit_smiles=f)[0]
        np.testing.assert_array_equal(X, fresh)
    assert not np.allclose(got[0], got[1])
    rep.embed(smiles[:5], fit_smiles=smiles[:4])  # another row list: computed again
    assert calls == [6, 5]


def test_student_spec_is_lazy():
    rep = get_representation("student:/nonexistent/model")
    assert rep.name == "student:/nonexistent/model"
    assert get_representation("random-student:small").config["config"] == "small"


def test_shipped_student_cache_key_follows_the_weights():
    from molmtd.models import default_model_name, list_models

    names = sorted(list_models())
    default = get_representation("student:default").config
    assert default == get_representation(f"student:{default_model_name()}").config
    keys = {get_representation(f"student:{n}").config["content"] for n in names}
    assert len(keys) == len(names) and "" not in keys  # one key per set of weights


def test_bfloat16_student_is_cached_apart_and_embeds_close_to_float32():
    exact = get_representation("student:default")
    fast = get_representation("student-bf16:default")
    assert fast.config == {**exact.config, "precision": "bfloat16"}
    assert "precision" not in exact.config  # float32 keys unchanged
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "not_a_smiles"]
    (a, mask_a), (b, mask_b) = exact.embed(smiles), fast.embed(smiles)
    assert mask_a.tolist() == mask_b.tolist() == [True, True, True, False]
    assert not np.array_equal(a[mask_a], b[mask_b])
    np.testing.assert_allclose(b[mask_b], a[mask_a], rtol=0.05, atol=0.05)
