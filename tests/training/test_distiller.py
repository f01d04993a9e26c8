"""Trainer on real RDKit teachers (MACCS + descriptors): each loss learns, checkpoints work."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from molmtd_train_helpers import nci_targets, small_config, source
from safetensors.torch import load_file

from molmtd.training import Distiller, TrainConfig, embed, load_student


@pytest.mark.parametrize("loss", ["nll", "mse", "cosine"])
def test_each_loss_decreases_and_checkpoints(loss, tmp_path):
    kwargs = {"hidden": 64, "n_layers": 2} if loss == "nll" else {"hidden": 64}
    cfg = small_config(
        loss=loss,
        loss_kwargs=kwargs,
        epochs=3,
        batch_size=32,
        eval_at_start=True,
        checkpoint_every=10,
    )
    result = Distiller(cfg, source(), tmp_path).fit()
    hist = result.val_history
    assert hist[0]["step"] == 0 and hist[-1]["step"] == result.step == 3 * (255 // 32)
    assert hist[-1]["loss"] < 0.9 * hist[0]["loss"], hist
    for teacher in ("maccs", "desc"):
        assert hist[-1][f"{teacher}/loss"] < hist[0][f"{teacher}/loss"]
        if loss == "nll":  # MI estimate grows as the student learns
            assert hist[-1][f"{teacher}/mi"] > hist[0][f"{teacher}/mi"]
    # artefacts
    assert (tmp_path / "config.yaml").is_file() and (tmp_path / "curves.png").stat().st_size > 1000
    assert TrainConfig.from_yaml(tmp_path / "config.yaml") == cfg
    log = pd.read_csv(tmp_path / "log.csv")
    assert set(log["split"]) == {"train", "val"}
    pointer = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    best = tmp_path / "checkpoints" / pointer["best"]
    meta = json.loads((best / "meta.json").read_text())
    assert meta["teachers"]["maccs"] == {"dim": 167, "config_hash": "rdkit-maccs"}
    assert meta["loss"]["name"] == loss and meta["backbone"] == cfg.backbone | meta["backbone"]
    assert meta["data"]["n_train"] == 255 and meta["data"]["n_val"] == 45
    assert "git_commit" in meta and meta["metrics"]["loss"] == pytest.approx(result.best_val_loss)
    weights = load_file(str(best / "model.safetensors"))
    assert any(k.startswith("loss.") for k in weights) and any(
        k.startswith("backbone.") for k in weights
    )
    # best = lowest validation loss among the validations
    val = log[log["split"] == "val"]
    assert (
        int(val.loc[val["loss"].idxmin(), "step"])
        == result.best_step
        == int(pointer["best"].split("-")[1])
    )


def test_load_student_embeds_like_the_trained_backbone(tmp_path):
    cfg = small_config(epochs=1, batch_size=32)
    Distiller(cfg, source(), tmp_path).fit()
    student = load_student(tmp_path)
    assert not student.training and student.meta["teachers"].keys() == {"maccs", "desc"}
    smiles, _ = nci_targets()
    a = student.embed(smiles[:40], batch_size=16)
    b = embed(load_student(tmp_path / "student" / "model.safetensors"), smiles[:40], batch_size=7)
    assert a.shape == (40, 32) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="index 41"):
        student.embed([*smiles[:41], "not-a-smiles"], batch_size=16)


def test_early_stopping_and_refusing_to_overwrite(tmp_path):
    # lr so small that nothing improves after the first validation -> stop after `patience`
    cfg = small_config(
        epochs=50,
        batch_size=64,
        lr=1e-9,
        warmup_steps=0,
        eval_every=1,
        patience=2,
        min_lr_ratio=1.0,
    )
    result = Distiller(cfg, source(), tmp_path).fit()
    assert result.stopped_early and result.step < 10
    with pytest.raises(FileExistsError):
        Distiller(cfg, source(), tmp_path).fit()


def test_masks_and_missing_teacher_rows(tmp_path):
    from molmtd.training import ArrayTargets

    smiles, targets = nci_targets()
    desc = targets["desc"].copy()
    desc[::3] = np.nan  # a third of the molecules lack this teacher
    src = ArrayTargets(smiles, {"maccs": targets["maccs"], "desc": desc})
    result = Distiller(small_config(epochs=1, batch_size=32), src, tmp_path).fit()
    assert all(math.isfinite(v) for v in result.val_history[-1].values())


def test_warmup_cosine_schedule():
    from molmtd.training.trainer import WarmupCosine

    f = WarmupCosine(total=100, warmup=10, min_ratio=0.1)
    lrs = [f(s) for s in range(100)]
    assert lrs[0] < lrs[5] < lrs[9] <= 1.0 and lrs[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(lrs[10:])) and lrs[-1] == pytest.approx(
        0.1, abs=1e-3
    )


def test_config_rejects_unknown_keys():
    with pytest.raises(KeyError, match="ephocs"):
        TrainConfig.from_dict({"ephocs": 3})


def test_split_is_seeded_and_disjoint():
    from molmtd.training.data import split_indices

    tr, va = split_indices(1000, 0.1, seed=3)
    tr2, va2 = split_indices(1000, 0.1, seed=3)
    assert np.array_equal(tr, tr2)
    assert np.array_equal(va, va2) and len(va) == 100 and not set(tr) & set(va)
    assert not np.array_equal(va, split_indices(1000, 0.1, seed=4)[1])


def test_epoch_batches_shards_equal_single_process_batches():
    from molmtd.training.data import EpochBatches

    idx = np.arange(100)
    single = list(EpochBatches(idx, 16, seed=0))
    ranks = [list(EpochBatches(idx, 16, seed=0, rank=r, world_size=2)) for r in range(2)]
    assert len(single) == 6
    for b, batch in enumerate(single):
        assert np.array_equal(np.concatenate([ranks[0][b], ranks[1][b]]), batch)
    sampler = EpochBatches(idx, 16, seed=0)
    sampler.set_epoch(0, start=4)
    assert [b.tolist() for b in sampler] == [b.tolist() for b in single[4:]]
    sampler.set_epoch(1)
    assert not np.array_equal(next(iter(sampler)), single[0])
    # validation: short last batch, a rank whose share is empty gets no batch
    shards = [
        list(EpochBatches(np.arange(17), 16, 0, r, 2, shuffle=False, drop_last=False))
        for r in range(2)
    ]
    assert [len(b) for b in shards[0]] == [8, 1] and [len(b) for b in shards[1]] == [8]


def test_weights_train_in_float32(tmp_path):
    cfg = small_config(max_steps=2, batch_size=32)
    Distiller(cfg, source(), tmp_path).fit()
    w = load_file(str(tmp_path / "student" / "model.safetensors"))
    assert all(v.dtype in (torch.float32, torch.int64, torch.bool) for v in w.values())


def test_adamw_is_fused_on_cpu_where_torch_has_it():
    from packaging.version import Version

    from molmtd.training.optim import adamw as _adamw

    params = [torch.nn.Parameter(torch.randn(4, 3))]
    opt = _adamw(params, lr=0.1, weight_decay=0.0)
    assert opt.defaults["fused"] is (Version(torch.__version__.split("+")[0]) >= Version("2.4"))
    params[0].grad = torch.ones_like(params[0])
    before = params[0].detach().clone()
    opt.step()
    # first Adam step moves every weight by lr against the gradient's sign
    torch.testing.assert_close(params[0].detach(), before - 0.1)


def test_keep_steps_checkpoints_survive_pruning(tmp_path):
    """Learning-curve points: checkpoints at keep_steps are written and never pruned."""
    cfg = small_config(max_steps=14, batch_size=32, checkpoint_every=5, keep_steps=[3, 7])
    Distiller(cfg, source(), tmp_path).fit()
    pointer = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert pointer["keep-00000003"] == "step-00000003" and pointer["keep-00000007"] == "step-00000007"
    kept = sorted(p.name for p in (tmp_path / "checkpoints").iterdir() if p.is_dir())
    assert {"step-00000003", "step-00000007", "step-00000014"} <= set(kept)
    assert "step-00000005" not in kept and "step-00000010" not in kept  # pruned as usual
    # a kept checkpoint loads as a student
    student = load_student(tmp_path / "checkpoints" / "step-00000003")
    assert embed(student, ["CCO", "c1ccccc1O"]).shape[0] == 2
