"""Inference with a trained student: :func:`load_student` and :func:`embed`."""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molmtd.backbones.base import build_backbone
from molmtd.training.checkpoint import META, POINTER, WEIGHTS, split_tensors


def resolve_student_path(path: str | Path) -> Path:
    """Directory holding ``model.safetensors`` + ``meta.json`` for ``path``.

    ``path`` may be a run directory (its ``student/`` export, else its best checkpoint),
    a ``checkpoints/`` directory, a checkpoint directory, or a ``model.safetensors`` file.
    """
    path = Path(path)
    if path.is_file() and path.name.endswith(".safetensors"):
        path = path.parent
    candidates = [path, path / "student"]
    for root in (path / "checkpoints", path):
        pointer = root / POINTER
        if pointer.is_file():
            names = json.loads(pointer.read_text())
            candidates += [root / names[k] for k in ("best", "last") if k in names]
    for cand in candidates:
        if (cand / WEIGHTS).is_file() and (cand / META).is_file():
            return cand
    raise FileNotFoundError(
        f"no student weights under {path}: expected a run directory, a checkpoint directory "
        f"or a folder with {WEIGHTS} and {META}"
    )


def load_student(path: str | Path, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Load a trained student backbone in eval mode.

    Parameters
    ----------
    path
        Run directory (uses ``student/``, the export of the best checkpoint; else the best
        checkpoint), a checkpoint directory, or a ``model.safetensors`` file beside its
        ``meta.json``.
    device
        Where to put the weights.

    Returns
    -------
    torch.nn.Module
        The backbone (``.config``, ``.dim``, ``.collate``, ``.embed``); the checkpoint's
        metadata (teachers, metrics, git commit, ...) is attached as ``.meta``.
    """
    root = resolve_student_path(path)
    meta = json.loads((root / META).read_text())
    from safetensors.torch import load_file

    tensors = load_file(str(root / WEIGHTS))
    backbone = build_backbone(meta["backbone"])
    backbone.load_state_dict(split_tensors(tensors, "backbone"))
    backbone.meta = meta
    return backbone.to(device).eval()


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
    from molmtd.training.data import to_device

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
