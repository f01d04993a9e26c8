"""The optimiser and learning-rate schedule of a distillation run.

Role: AdamW over two parameter groups (the student's backbone, and the loss heads with their
own learning rate and weight decay) and the warm-up + cosine multiplier of its learning rate.
Imports only torch and :class:`~molmtd.training.config.TrainConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from molmtd.training.config import TrainConfig


def adamw(params: Iterable[nn.Parameter], **kwargs: Any) -> torch.optim.AdamW:
    """AdamW with the fused kernel where torch has it for the device (CPU from torch 2.4).

    The kernel heads hold most of the parameters (23M of 24.6M for the default model's 16
    teachers), and on CPU the fused step is several times faster than the per-tensor loop
    (``benchmarks/speed/optimizer_step.py``).
    """
    params = list(params)
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(params, **kwargs)


class WarmupCosine:
    """LR multiplier: linear warm-up over ``warmup`` steps, cosine decay to ``min_ratio``."""

    def __init__(self, total: int, warmup: int, min_ratio: float) -> None:
        self.total = max(int(total), 1)
        self.warmup = max(int(warmup), 0)
        self.min_ratio = float(min_ratio)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        span = max(self.total - self.warmup, 1)
        progress = min((step - self.warmup) / span, 1.0)
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(
    backbone: nn.Module, loss_fn: nn.Module, cfg: TrainConfig, total: int
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW for ``backbone`` and ``loss_fn`` and its schedule over ``total`` steps.

    The loss heads take ``kernel_lr`` and ``kernel_weight_decay`` where set; a
    ``warmup_steps`` below 1 is a fraction of ``total``.
    """
    warmup = cfg.warmup_steps if cfg.warmup_steps >= 1 else cfg.warmup_steps * total
    optimizer = adamw(
        [
            {"params": list(backbone.parameters())},
            {
                "params": list(loss_fn.parameters()),
                "lr": cfg.lr if cfg.kernel_lr is None else cfg.kernel_lr,
                "weight_decay": cfg.weight_decay
                if cfg.kernel_weight_decay is None
                else cfg.kernel_weight_decay,
            },
        ],
        lr=cfg.lr,
        betas=tuple(cfg.betas),
        weight_decay=cfg.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, WarmupCosine(total, int(warmup), cfg.min_lr_ratio)
    )
    return optimizer, scheduler
