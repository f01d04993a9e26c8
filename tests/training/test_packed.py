"""Packed training sets: graphs and float16 targets in one file, trained on without RDKit."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from molmtd_train_helpers import small_config, source

from molmtd.backbones.features import batch_graphs, smiles_to_graph
from molmtd.training import Distiller
from molmtd.training.packed import PackedTargets, pack_targets


def test_pack_round_trip(tmp_path) -> None:
    src = source(60)
    rows = np.arange(5, 45)
    path = pack_targets(src, rows, tmp_path / "p.npz")
    packed = PackedTargets(path)
    assert len(packed) == 40 and packed.teacher_dims == src.teacher_dims
    assert packed.teacher_info == src.teacher_info
    # graphs: those RDKit gives for the same rows, in the same order
    for i, smi in zip(range(40), src.items(rows)):
        ours, ref = packed.graph(i), smiles_to_graph(smi)
        for key in ("x", "edge_index", "edge_attr"):
            np.testing.assert_array_equal(ours[key], ref[key], err_msg=f"row {i}: {key}")
    # targets: float16 of the source's (within float16's precision), masks exact
    want, want_masks = src.get(rows[[0, 7, 39]])
    got, got_masks = packed.get(np.array([0, 7, 39]))
    for k in want:
        assert got[k].dtype == np.float32
        np.testing.assert_allclose(got[k], want[k], rtol=1e-3, atol=1e-3)
        np.testing.assert_array_equal(got_masks[k], want_masks[k])
    assert PackedTargets(path, teachers=["desc"]).teacher_dims == {"desc": 8}
    with pytest.raises(KeyError, match="not packed"):
        PackedTargets(path, teachers=["ecfp"])
    assert not list(tmp_path.glob(".p.npz*"))  # written beside and renamed


def test_collating_packed_graphs_needs_no_rdkit(tmp_path, monkeypatch) -> None:
    packed = PackedTargets(pack_targets(source(40), np.arange(10), tmp_path / "p.npz"))
    from molmtd.backbones import build_backbone

    backbone = build_backbone({"name": "gine", "dim": 8, "hidden": 8, "rw_steps": 3})
    expected = batch_graphs([smiles_to_graph(s) for s in source(40).items(np.arange(10))])
    monkeypatch.setitem(sys.modules, "rdkit", None)  # any RDKit import would now fail
    batch = backbone.collator(packed.items(np.arange(10)))
    for key in ("x", "edge_index", "edge_attr", "batch"):
        assert torch.equal(getattr(batch, key), getattr(expected, key)), key


def test_distilling_from_a_pack_follows_the_unpacked_run(tmp_path) -> None:
    path = pack_targets(source(), np.arange(300), tmp_path / "p.npz")
    cfg = small_config(
        loss="mse", loss_kwargs={"hidden": 32}, epochs=3, batch_size=32, eval_at_start=True
    )
    packed = Distiller(cfg, PackedTargets(path), tmp_path / "packed").fit().val_history
    plain = Distiller(cfg, source(), tmp_path / "plain").fit().val_history
    assert packed[-1]["loss"] < 0.9 * packed[0]["loss"], packed
    # same graphs, same seed: only float16 targets differ
    assert packed[-1]["loss"] == pytest.approx(plain[-1]["loss"], rel=0.02)
    assert (tmp_path / "packed" / "student").is_dir()
