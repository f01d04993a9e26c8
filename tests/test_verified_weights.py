"""Model folders loaded by path are verified like shipped models (issue #18, item 5)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from trust_helpers import save_student

from molmtd.featurizer import Featurizer
from molmtd.models import (
    MODELS_DIR,
    ModelFileError,
    UnknownModelError,
    UnverifiedModelWarning,
    load_model,
    sha256_file,
)

SMILES = ["CCO", "c1ccccc1O"]


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_verified_folder_loads_without_warning(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X = Featurizer(model=folder).transform(SMILES)
    assert X.shape == (2, 32)


def test_tampered_weights_name_file_and_both_hashes(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m")
    expected = json.loads((folder / "card.json").read_text())["sha256"]
    weights = folder / "model.safetensors"
    _flip_byte(weights, weights.stat().st_size - 10)  # a weight value: still loads untouched
    actual = sha256_file(weights)
    with pytest.raises(ModelFileError) as info:
        Featurizer(model=folder).transform(SMILES)
    message = str(info.value)
    assert str(weights) in message and expected in message and actual in message
    assert "\n" not in message


def test_tampered_copy_of_a_shipped_model_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(MODELS_DIR / "zinc200k-gine-fp-bnll", copy)
    _flip_byte(copy / "model.safetensors", 5000)
    with pytest.raises(ModelFileError, match=r"sha256 of .*model\.safetensors is [0-9a-f]{64}"):
        load_model(copy)


def test_folder_without_card_warns_unverified(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m", card=False)
    with pytest.warns(UnverifiedModelWarning, match="unverified"):
        X = Featurizer(model=folder).transform(SMILES)
    assert np.isfinite(X).all()


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_unreadable_weights_give_one_line_naming_the_file(tmp_path: Path, damage: str) -> None:
    folder = save_student(tmp_path / "m", card=False)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00garbage" * 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedModelWarning)
        with pytest.raises(ModelFileError) as info:
            load_model(folder)
    message = str(info.value)
    assert message.startswith(str(weights)) and "\n" not in message
    assert "deserializ" not in message.lower()  # not safetensors' internal message


def test_garbled_meta_and_card_name_the_file(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m", card=False)
    (folder / "meta.json").write_text('{"backbone": ')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedModelWarning)
        with pytest.raises(ModelFileError, match=r"meta\.json: not valid JSON"):
            load_model(folder)
    folder = save_student(tmp_path / "n")
    (folder / "card.json").write_text("{not json")
    with pytest.raises(ModelFileError, match=r"card\.json: not a valid model card"):
        load_model(folder)


def test_unknown_model_name() -> None:
    with pytest.raises(UnknownModelError, match="unknown model 'no-such-model'") as info:
        load_model("no-such-model")
    assert isinstance(info.value, KeyError)


def test_shipped_model_records_its_hash() -> None:
    backbone = load_model("default")
    card = json.loads((MODELS_DIR / backbone.meta["model_name"] / "card.json").read_text())
    assert backbone.meta["sha256"] == card["sha256"]


def test_edited_meta_json_is_refused(tmp_path: Path) -> None:
    """meta.json decides the architecture: changing its pooling must fail verification."""
    folder = tmp_path / "copy"
    shutil.copytree(MODELS_DIR / "zinc200k-gine-fp-mse-small", folder)
    meta = json.loads((folder / "meta.json").read_text())
    meta["backbone"]["pool"] = "sum"
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"meta\.json"):
        Featurizer(model=folder).transform(SMILES)


def test_card_without_meta_hash_is_unverified_and_without_domain_hash_refused(tmp_path: Path) -> None:
    folder = save_student(tmp_path / "m")
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps({k: v for k, v in card.items() if k != "meta_sha256"}))
    with pytest.warns(UnverifiedModelWarning, match="meta_sha256"):  # an older card
        assert load_model(folder).meta["sha256"] is None  # not called verified
    assert Featurizer(model=folder).provenance_["weights_sha256"] is None
    shipped = tmp_path / "shipped"
    shutil.copytree(MODELS_DIR / "zinc200k-gine-fp-mse-small", shipped)
    card = json.loads((shipped / "card.json").read_text())
    card.pop("domain")
    (shipped / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="domain"):
        load_model(shipped)


def test_a_changed_cached_onnx_export_is_not_used(tmp_path: Path, monkeypatch) -> None:
    """One weight of the cached ONNX export scaled x3: re-exported, the rows stay right."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    monkeypatch.setenv("HOME", str(tmp_path))
    folder = save_student(tmp_path / "m")
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    torch_rows = Featurizer(model=folder, precision="float32").transform(smiles)
    np.testing.assert_allclose(
        Featurizer(model=folder, backend="onnx").transform(smiles), torch_rows, atol=1e-4
    )
    (cached,) = (tmp_path / ".cache" / "molmtd" / "onnx").glob("*.onnx")
    model = onnx.load(str(cached))
    weight = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 3, weight.name))
    onnx.save(model, str(cached))
    tampered = cached.read_bytes()
    rows = Featurizer(model=folder, backend="onnx").transform(smiles)
    np.testing.assert_allclose(rows, torch_rows, atol=1e-4)
    assert cached.read_bytes() != tampered  # made again from the verified weights
