"""Provenance: ``Featurizer.provenance_`` and the record in every file ``featurize`` writes."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
import torch
from trust_helpers import save_student

import molmtd
from molmtd.cli import main
from molmtd.featurizer import Featurizer
from molmtd.models import MODELS_DIR
from molmtd.provenance import read_provenance, sidecar_path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_student(tmp_path_factory.mktemp("prov") / "m")


def test_featurizer_provenance(model: Path) -> None:
    feat = Featurizer(model=model, precision="bfloat16", standardize="parent")
    record = feat.provenance_
    card = json.loads((model / "card.json").read_text())
    assert record["model"] == str(model) and record["weights_sha256"] == card["sha256"]
    assert record["verified"] and record["dim"] == 32
    assert record["precision"] == "bfloat16" and record["standardize"] == "parent"
    versions = record["versions"]
    assert versions["molmtd"] == molmtd.__version__
    assert versions["rdkit"] == rdkit.__version__
    assert versions["torch"] == torch.__version__


def test_shipped_model_provenance_names_the_model() -> None:
    record = Featurizer().provenance_
    name = (MODELS_DIR / "DEFAULT").read_text().strip()
    assert record["model"] == name
    assert (
        record["weights_sha256"]
        == json.loads((MODELS_DIR / name / "card.json").read_text())["sha256"]
    )
    assert record["standardize"] == "none"  # what the shipped models were trained with


def test_unverified_model_provenance(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m", card=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = Featurizer(model=folder).provenance_
    assert record["weights_sha256"] is None and record["verified"] is False


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".npy"])
def test_cli_outputs_carry_provenance(model: Path, tmp_path: Path, suffix: str) -> None:
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCO", "bad", "CCN"]}).to_csv(src, index=False)
    out = tmp_path / f"out{suffix}"
    assert main(["featurize", str(src), "-o", str(out), "--model", str(model)]) == 0
    record = read_provenance(out)
    expected = Featurizer(model=model).provenance_
    for key in ("model", "weights_sha256", "precision", "standardize", "versions"):
        assert record[key] == expected[key], key
    assert record["rows"] == 3 and record["input"] == str(src) and record["created_utc"]
    if suffix == ".parquet":
        assert not sidecar_path(out).exists()  # inside the file
        assert pd.read_parquet(out)["valid"].tolist() == [True, False, True]
    else:
        assert sidecar_path(out).is_file()
    if suffix == ".npy":
        assert np.load(out).shape == (3, 32)
