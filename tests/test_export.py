"""ONNX export of GINE students: ONNX Runtime rows equal torch rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molmtd.backbones import build_backbone
from molmtd.backbones.features import batch_graphs, smiles_to_graph

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "C", "BrCCBr"]


@pytest.mark.parametrize(
    ("pool", "readout", "rw_steps"),
    [("mean", "concat", 0), ("sum", "last", 0), ("mean+sum", "concat", 6)],
)
def test_onnx_rows_equal_torch_rows(tmp_path, pool: str, readout: str, rw_steps: int) -> None:
    from molmtd.student.onnx import OnnxStudent, export_onnx

    torch.manual_seed(0)
    config = {"name": "gine", "dim": 24, "hidden": 16, "num_layers": 3, "rw_steps": rw_steps}
    backbone = build_backbone({**config, "pool": pool, "readout": readout}).eval()
    path = export_onnx(backbone, tmp_path / "student.onnx")
    graphs = [smiles_to_graph(s) for s in SMILES]
    with torch.inference_mode():
        ref = backbone(batch_graphs(graphs)).numpy()
    student = OnnxStudent(path)
    assert student.config["pool"] == pool
    # Batches of other sizes than the export example (3 graphs) work too.
    for size in (1, 2, 6):
        rows = np.concatenate([student.run(graphs[i : i + size]) for i in range(0, 6, size)])
        np.testing.assert_allclose(rows, ref, rtol=1e-5, atol=1e-5)


def test_numpy_return_probs_equal_torch() -> None:
    from molmtd.backbones.gnn import random_walk_return_probs
    from molmtd.student.onnx import onnx_inputs

    graphs = [smiles_to_graph(s) for s in [*SMILES, "C1CC1.[Na+]", "c1ccc2ccccc2c1"]]
    batch = batch_graphs(graphs)
    expected = random_walk_return_probs(batch.edge_index, batch.batch, len(graphs), 5).numpy()
    rw = onnx_inputs(graphs, rw_steps=5)["rw"]
    assert rw.shape == expected.shape and rw.dtype == np.float32
    np.testing.assert_allclose(rw, expected, atol=1e-6)
    np.testing.assert_array_equal(onnx_inputs([smiles_to_graph("C")], rw_steps=3)["rw"], 0)


def test_export_refuses_other_students(tmp_path) -> None:
    from molmtd.student.onnx import export_onnx

    with pytest.raises(NotImplementedError, match="GINE"):
        export_onnx(build_backbone({"name": "gin", "dim": 8, "hidden": 8}), tmp_path / "a.onnx")
    attention = build_backbone({"name": "gine", "dim": 8, "hidden": 8, "pool": "attention"})
    with pytest.raises(NotImplementedError, match="attention"):
        export_onnx(attention, tmp_path / "b.onnx")
