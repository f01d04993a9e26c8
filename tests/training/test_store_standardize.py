"""Standardisation at store-build time reaches the trained student's Featurizer."""

from __future__ import annotations

import json

from molmtd.cli import main
from molmtd.data.corpus import load_corpus


def test_load_corpus_standardizes_before_deduplication(tmp_path) -> None:
    path = tmp_path / "c.smi"
    path.write_text("CCN.Cl\nCCN\nCC[NH3+].[Cl-]\nc1ccccc1O\nnot a smiles\n")
    plain = load_corpus(str(path), seed=None)
    assert len(plain) == 4 and plain.report.standardize == "none"
    parent = load_corpus(str(path), seed=None, standardize="parent")
    assert list(parent) == ["CCN", "Oc1ccccc1"]
    assert parent.report.n_duplicate == 2 and parent.report.n_standardized == 1
    assert parent.report.n_invalid == 1
    assert parent.report.as_dict()["standardize"] == "parent"


def test_store_standardize_is_recorded_and_followed(tmp_path) -> None:
    from molmtd_train_helpers import nci_targets

    from molmtd.featurizer import Featurizer

    smiles, _ = nci_targets(150)
    corpus = tmp_path / "corpus.smi"
    corpus.write_text("\n".join([*smiles, "CCN.Cl"]) + "\n")
    store = tmp_path / "store"
    assert main(["teachers", "build", "--corpus", str(corpus), "--seed", "-1", "--teachers",
                 "maccs", "--out", str(store), "--standardize", "largest_fragment",
                 "--no-progress"]) == 0  # fmt: skip
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["corpus"]["standardize"] == "largest_fragment"
    run = tmp_path / "run"
    assert main(["distill", "--config", "small", "--store", str(store), "--out", str(run),
                 "--no-progress", "--max-steps", "2", "--batch-size", "32",
                 "--set", "backbone.hidden=32"]) == 0  # fmt: skip
    meta = json.loads((run / "student" / "meta.json").read_text())
    assert meta["standardize"] == "largest_fragment"
    feat = Featurizer(model=str(run), standardize="auto")
    assert feat.provenance_["verified"]  # the export carries a card with its sha256
    assert feat.provenance_["standardize"] == "largest_fragment"
    rows = feat.transform(["CCN.Cl", "CCN"])
    assert abs(rows[0] - rows[1]).max() == 0.0
