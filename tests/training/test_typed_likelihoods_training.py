"""The trainer with typed likelihoods (``likelihoods: auto``) and student-only clipping."""

from __future__ import annotations

import json

import torch
from molmtd_train_helpers import small_config, source

from molmtd.training import Distiller


def test_auto_likelihoods_are_resolved_and_recorded(tmp_path):
    cfg = small_config(
        loss="nll",
        loss_kwargs={
            "hidden": 64,
            "n_layers": 2,
            "likelihoods": "auto",
            "max_log_precision": 2.0,
            "input_norm": True,
        },
        epochs=2,
        batch_size=32,
        eval_at_start=True,
        clip_scope="student",
        kernel_lr=1e-3,
    )
    result = Distiller(cfg, source(), tmp_path).fit()
    hist = result.val_history
    assert hist[-1]["loss"] < hist[0]["loss"]
    pointer = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    meta = json.loads((tmp_path / "checkpoints" / pointer["best"] / "meta.json").read_text())
    # MACCS keys are bits, the descriptors dense
    assert meta["loss"]["kwargs"]["likelihoods"] == {"maccs": "bernoulli", "desc": "gaussian"}


def test_student_clip_scope_leaves_kernel_gradients_unclipped(tmp_path, monkeypatch):
    seen: list[int] = []
    real = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *args, **kwargs):
        params = list(params)
        seen.append(sum(p.numel() for p in params))
        return real(params, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    counts = {}
    for scope in ("all", "student"):
        seen.clear()
        cfg = small_config(max_steps=2, batch_size=32, clip_scope=scope)
        distiller = Distiller(cfg, source(), tmp_path / scope)
        distiller.fit()
        counts[scope] = seen[0]
    assert counts["student"] < counts["all"]
