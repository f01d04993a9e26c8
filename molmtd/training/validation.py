"""The validation pass of distillation training: per-teacher held-out loss (and MI).

Role: run a loss module over a validation loader without gradients and reduce the sums over
DDP ranks into the metrics the trainer logs and selects the best checkpoint by. Imports only
torch and :func:`molmtd.training.data.to_device`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from molmtd.training.data import to_device


@torch.no_grad()
def validation_metrics(
    module: nn.Module,
    loader: Iterable[Any],
    teachers: dict[str, int],
    *,
    device: torch.device,
    world: int = 1,
    with_mi: bool = False,
) -> dict[str, float]:
    """Mean validation loss of each teacher, and their weighted sum as ``"loss"``.

    Parameters
    ----------
    module
        Backbone + loss heads (``module(batch, targets, masks)`` gives the loss output; its
        ``loss_fn.weights`` weigh the teachers). Left in eval mode.
    loader
        Batches ``(batch, targets, masks, rows)`` of this rank's validation rows.
    teachers
        The teachers to report, in order.
    device, world
        Where the batches go, and how many ranks share the validation rows (sums are
        all-reduced when ``world > 1``: every rank must call this).
    with_mi
        Also report each teacher's MI estimate as ``"<teacher>/mi"`` (likelihood losses).

    Returns
    -------
    dict
        ``"<teacher>/loss"`` per teacher (NaN without valid rows), optionally
        ``"<teacher>/mi"``, and ``"loss"``.
    """
    module.eval()
    names = list(teachers)
    k = len(names)
    # sums: loss_k * n_k, mi_k * n_k, n_k
    acc = torch.zeros(3 * k, dtype=torch.float64)
    for batch, targets, masks, _rows in loader:
        out = module(
            to_device(batch, device),
            to_device(targets, device),
            to_device(masks, device),
        )
        for i, name in enumerate(names):
            n = out.n_valid.get(name, 0)
            if n == 0:
                continue
            acc[i] += float(out.per_teacher[name]) * n
            if name in out.mi:
                acc[k + i] += float(out.mi[name]) * n
            acc[2 * k + i] += n
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(acc)
    weights = module.loss_fn.weights
    metrics: dict[str, float] = {}
    total = 0.0
    for i, name in enumerate(names):
        n = float(acc[2 * k + i])
        mean = float(acc[i]) / n if n else float("nan")
        metrics[f"{name}/loss"] = mean
        if with_mi:
            metrics[f"{name}/mi"] = float(acc[k + i]) / n if n else float("nan")
        if n:
            total += weights[name] * mean
    metrics["loss"] = total
    return metrics
