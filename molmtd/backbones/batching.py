"""Batched forward passes of a backbone: :func:`embed` raw items in input order, :func:`to_device`."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch


@torch.inference_mode()
def embed(
    backbone: torch.nn.Module,
    items: Sequence[Any],
    batch_size: int = 256,
    num_workers: int = 0,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Embed raw items (SMILES, texts, images) with ``backbone``: float32 array [N, dim].

    ``collate`` runs in ``num_workers`` DataLoader workers (featurisation overlaps the
    forward pass); rows keep the input order. Invalid items raise ``ValueError`` naming the
    item. The backbone is put in eval mode (its previous mode is restored afterwards).
    """
    if device is None:
        device = next(iter(backbone.parameters())).device
    device = torch.device(device)
    collate = getattr(backbone, "collator", None) or backbone.collate
    n = len(items)
    starts = list(range(0, n, batch_size))
    out = np.empty((n, backbone.dim), dtype=np.float32)
    if n == 0:
        return out
    chunks = [(s, items[s : s + batch_size]) for s in starts]
    loader = torch.utils.data.DataLoader(
        _Chunks(chunks, collate),
        batch_size=None,
        num_workers=num_workers,
        persistent_workers=False,
    )
    it = loader
    if progress:
        from molmtd.utils import progress_bar as tqdm

        it = tqdm(loader, total=len(chunks), desc="embed", unit="batch")
    with eval_mode(backbone):
        for start, batch in it:
            emb = backbone(to_device(batch, device))
            out[start : start + emb.shape[0]] = emb.float().cpu().numpy()
    return out


@contextlib.contextmanager
def eval_mode(backbone: torch.nn.Module) -> Iterator[None]:
    """Run the block with ``backbone`` in eval mode; its previous mode is restored after."""
    was_training = backbone.training
    backbone.eval()
    try:
        yield
    finally:
        backbone.train(was_training)


class _Chunks(torch.utils.data.Dataset):
    def __init__(self, chunks: list[tuple[int, Sequence[Any]]], collate: Any) -> None:
        self.chunks = chunks
        self.collate = collate
        try:
            self.accepts_start = "start" in inspect.signature(collate).parameters
        except (TypeError, ValueError):
            self.accepts_start = False

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, i: int) -> tuple[int, Any]:
        start, items = self.chunks[i]
        items = list(items)
        if self.accepts_start:
            return start, self.collate(items, start=start)
        return start, self.collate(items)


def to_device(obj: Any, device: torch.device) -> Any:
    """Move a batch (tensor, PyG batch, dict/list of them) to ``device``."""
    if device.type == "cpu":
        return obj
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(v, device) for v in obj)
    if hasattr(obj, "to"):
        return obj.to(device, non_blocking=True)
    return obj
