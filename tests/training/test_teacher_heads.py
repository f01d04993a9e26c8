"""A student whose rows carry its teacher heads' predictions: backbone, export, ONNX, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from molmtd_train_helpers import nci_targets, small_config, source
from safetensors.torch import load_file

from molmtd.backbones import build_backbone
from molmtd.cli import main
from molmtd.training import Distiller
from molmtd.training.checkpoint import export_student


def latest_checkpoint(checkpoints):
    """The checkpoint folder ``latest.json`` calls last."""
    import json

    return checkpoints / json.loads((checkpoints / "latest.json").read_text())["last"]


SMALL = {"name": "gine", "dim": 12, "hidden": 16, "num_layers": 2, "mlp_ratio": 1.0}


def test_rows_are_the_embedding_then_each_head():
    torch.manual_seed(0)
    plain = build_backbone(SMALL).eval()
    headed = build_backbone({**SMALL, "teacher_heads": [["a", 3], ["b", 5]], "head_hidden": 7})
    headed.load_state_dict(plain.state_dict(), strict=False)
    headed.eval()
    assert (plain.dim, headed.dim, headed.embedding_dim) == (12, 20, 12)
    assert build_backbone(headed.config).config == headed.config
    batch = plain.collate(["CCO", "c1ccccc1O", "CC(=O)N"])
    with torch.no_grad():
        emb, rows = plain(batch), headed(batch)
        expected_b = headed.teacher_heads["b"](emb)
    assert rows.shape == (3, 20)
    torch.testing.assert_close(rows[:, :12], emb)
    torch.testing.assert_close(rows[:, 15:], expected_b)


@pytest.fixture(scope="module")
def mse_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("mse")
    cfg = small_config(loss="mse", loss_kwargs={"hidden": 24}, epochs=1, batch_size=32)
    Distiller(cfg, source(), run).fit()
    return run


def test_export_with_heads_equals_the_checkpoint_heads(mse_run, tmp_path):
    from molmtd.training import load_student

    ckpt = latest_checkpoint(mse_run / "checkpoints")
    plain = load_student(export_student(ckpt, tmp_path / "plain"))
    headed = load_student(export_student(ckpt, tmp_path / "headed", teacher_heads=True))
    widths = {"maccs": 167, "desc": nci_targets()[1]["desc"].shape[1]}
    assert headed.dim == plain.dim + sum(widths.values())
    assert headed.meta["dim"] == headed.dim
    smiles = nci_targets()[0][:7]
    tensors = load_file(str(ckpt / "model.safetensors"))
    with torch.no_grad():
        emb = plain(plain.collate(smiles))
        rows = headed(headed.collate(smiles))
    torch.testing.assert_close(rows[:, : plain.dim], emb)
    start = plain.dim
    for teacher, width in headed.config["teacher_heads"]:
        w0, b0 = tensors[f"loss.heads.{teacher}.0.weight"], tensors[f"loss.heads.{teacher}.0.bias"]
        w2, b2 = tensors[f"loss.heads.{teacher}.2.weight"], tensors[f"loss.heads.{teacher}.2.bias"]
        expected = torch.relu(emb @ w0.T + b0) @ w2.T + b2
        torch.testing.assert_close(rows[:, start : start + width], expected)
        assert width == widths[teacher]
        start += width
    assert start == headed.dim


def test_onnx_rows_with_heads(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from molmtd.backbones.features import batch_graphs, smiles_to_graph
    from molmtd.student.onnx import OnnxStudent, export_onnx

    torch.manual_seed(1)
    headed = build_backbone({**SMALL, "teacher_heads": [["a", 4]], "rw_steps": 3}).eval()
    graphs = [smiles_to_graph(s) for s in ("CCO", "c1ccccc1O", "CN1CCC[C@H]1c1cccnc1")]
    with torch.inference_mode():
        expected = headed(batch_graphs(graphs)).numpy()
    rows = OnnxStudent(export_onnx(headed, tmp_path / "h.onnx")).run(graphs)
    assert rows.shape == (3, 16)
    np.testing.assert_allclose(rows, expected, atol=1e-5)


def test_kernel_losses_have_no_heads_to_export(tmp_path):
    run = tmp_path / "nll"
    Distiller(small_config(epochs=1, batch_size=64), source(), run).fit()
    with pytest.raises(ValueError, match="mse and cosine"):
        export_student(latest_checkpoint(run / "checkpoints"), tmp_path / "s", teacher_heads=True)


def test_cli_export_student(mse_run, tmp_path, capsys):
    ckpt = latest_checkpoint(mse_run / "checkpoints")
    args = ["export-student", "--checkpoint", str(ckpt), "--out", str(tmp_path / "s")]
    assert main([*args, "--teacher-heads"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "s" / "model.safetensors").is_file()
