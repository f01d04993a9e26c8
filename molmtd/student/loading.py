"""Load a student: by shipped name or path, its files checked against its model card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from molmtd.backbones.base import build_backbone
from molmtd.student.cards import (
    ModelFileError,
    load_domain_reference,
    read_card,
    verify_weights,
)
from molmtd.student.files import META, WEIGHTS, resolve_student_path, split_tensors
from molmtd.student.shipped import model_dir


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


def load_model(model: str | Path, device: str = "cpu") -> Any:
    """Load a student by shipped name or path, its weights verified; clean errors.

    A shipped name, or a folder whose ``card.json`` records a sha256, is checked against it;
    a folder without one loads with an :class:`UnverifiedModelWarning`. The backbone's
    ``.meta`` gains ``"sha256"`` (None if unverified), ``"model_name"`` and ``"card"``;
    ``.domain`` is its :class:`molmtd.domain.DomainReference` (None if it ships none).

    Raises
    ------
    ModelFileError
        Hash mismatch, or a truncated / garbled weights or metadata file (one line naming
        the file).
    KeyError
        Unknown shipped model name (a :class:`UserError` too).
    """
    path = Path(model)
    if path.exists():
        root = resolve_student_path(path)
        sha = verify_weights(root)
        name = str(path)
    else:
        root = model_dir(str(model), verify=False)
        sha = verify_weights(root, label=f"model {root.name!r}")
        name = root.name
    backbone = _load_checked(root, device)
    card = read_card(root)
    backbone.meta = {**backbone.meta, "sha256": sha, "model_name": name, "card": card}
    backbone.domain = load_domain_reference(root, card)
    return backbone


def _load_checked(root: Path, device: str) -> Any:
    """``load_student(root)``, its file and library errors turned into one-line errors."""
    from safetensors import SafetensorError

    try:
        return load_student(root, device=device)
    except SafetensorError:
        problem = (root / WEIGHTS, "not a readable safetensors file (truncated or garbled?)")
    except (UnicodeDecodeError, json.JSONDecodeError):
        problem = (root / "meta.json", "not valid JSON (truncated or garbled?)")
    except (KeyError, TypeError):
        problem = (root / "meta.json", "does not describe a student backbone")
    except RuntimeError as err:
        if "state_dict" not in str(err):
            raise
        problem = (root / WEIGHTS, "does not match the architecture in meta.json")
    raise ModelFileError(f"{problem[0]}: {problem[1]}")
