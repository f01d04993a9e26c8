"""The files of a student: names in a run, checkpoint or model folder, and how to find them.

A student folder holds ``model.safetensors`` (tensors named ``backbone.*``, and ``loss.*`` in
a training checkpoint), ``meta.json`` (what rebuilds the backbone) and, when verified,
``card.json`` (the sha256 of both). Training runs point at their checkpoints through
``checkpoints/latest.json``; see :mod:`molmtd.training.checkpoint` for the run layout.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

POINTER = "latest.json"
WEIGHTS = "model.safetensors"
META = "meta.json"
STATE = "state.pt"
CARD_FILE = "card.json"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def split_tensors(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors named ``<prefix>.<name>``, keyed by ``<name>``."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


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
