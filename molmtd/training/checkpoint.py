"""Crash-safe checkpoints: safetensors weights + JSON metadata + trainer state.

Layout of a run directory::

    run_dir/
      config.yaml               resolved training configuration
      log.csv                   one row per training-log / validation event
      curves.png                per-teacher validation NLL and MI
      checkpoints/
        step-00000120/          one checkpoint (complete before it is referenced)
          model.safetensors     backbone.* and loss.* tensors
          meta.json             backbone config, teachers, loss, data, git commit, metrics
          state.pt              optimizer, scheduler, RNG and loop state (tensors/dicts only)
        latest.json             {"last": "step-...", "best": "step-..."}  (atomic replace)
      student/                  final export of the best checkpoint: what ``load_student``
        model.safetensors       and the Featurizer read (backbone weights only)
        meta.json

A checkpoint directory is written under a temporary name, fsynced and renamed; only then
is ``latest.json`` replaced (``os.replace``), and only then are unreferenced checkpoints
deleted. ``kill -9`` at any point leaves ``latest.json`` pointing at complete checkpoints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from molmtd.student.files import (
    CARD_FILE,
    META,
    POINTER,
    STATE,
    WEIGHTS,
    sha256_file,
    split_tensors,
)
from molmtd.utils import fsync_dir, write_json


def git_commit() -> str | None:
    """Commit of the molmtd checkout (None outside a git checkout); '+dirty' if modified."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def model_tensors(
    backbone: torch.nn.Module, loss_fn: torch.nn.Module | None
) -> dict[str, torch.Tensor]:
    """Flat ``{"backbone.<name>": tensor, "loss.<name>": tensor}`` (contiguous CPU copies)."""
    out = {
        f"backbone.{k}": v.detach().cpu().contiguous().clone()
        for k, v in backbone.state_dict().items()
    }
    if loss_fn is not None:
        out.update(
            {
                f"loss.{k}": v.detach().cpu().contiguous().clone()
                for k, v in loss_fn.state_dict().items()
            }
        )
    return out


class CheckpointManager:
    """Writes and finds checkpoints under ``run_dir/checkpoints``."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.root = self.run_dir / "checkpoints"

    def pointer(self) -> dict[str, str]:
        path = self.root / POINTER
        if not path.is_file():
            return {}
        return json.loads(path.read_text())

    def path(self, which: str = "last") -> Path | None:
        name = self.pointer().get(which)
        return None if name is None else self.root / name

    def save(
        self,
        step: int,
        tensors: dict[str, torch.Tensor],
        meta: dict[str, Any],
        state: dict[str, Any],
        is_best: bool,
        keep: bool = False,
    ) -> Path:
        """Write checkpoint ``step``; update the pointer (``last``, and ``best`` if ``is_best``;
        ``keep-<step>`` if ``keep``: such checkpoints are never pruned)."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"step-{step:08d}"
        final = self.root / name
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{name}."))
        try:
            save_file(tensors, str(tmp / WEIGHTS), metadata={"format": "pt"})
            (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
            torch.save(state, tmp / STATE)
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(self.root)
        pointer = self.pointer()
        pointer["last"] = name
        if is_best or "best" not in pointer:
            pointer["best"] = name
        if keep:
            pointer[f"keep-{step:08d}"] = name
        write_json(self.root / POINTER, pointer)
        self._prune(set(pointer.values()))
        return final

    def _prune(self, keep: set[str]) -> None:
        for child in self.root.iterdir():
            if child.name == POINTER or child.name in keep:
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def load_checkpoint(
    path: Path, map_location: str | torch.device = "cpu"
) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any] | None]:
    """``(tensors, meta, state)`` of a checkpoint directory (state None if absent)."""
    path = Path(path)
    tensors = load_file(str(path / WEIGHTS), device=str(map_location))
    meta = json.loads((path / META).read_text())
    state = None
    if (path / STATE).is_file():
        state = torch.load(path / STATE, map_location=map_location, weights_only=True)
    return tensors, meta, state


#: Losses whose per-teacher heads are Linear-ReLU-Linear predictions of the teacher (exportable).
HEAD_LOSSES = ("mse", "cosine")


def teacher_head_tensors(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The checkpoint's projection heads as ``backbone.teacher_heads.*`` tensors, and the
    backbone config that appends their predictions to the embedding.

    Raises
    ------
    ValueError
        The loss has no Linear-ReLU-Linear prediction heads (the kernel NLLs), or the
        checkpoint lacks a teacher's head.
    """
    loss = meta.get("loss", {})
    if loss.get("name") not in HEAD_LOSSES:
        raise ValueError(
            f"teacher heads can be exported for the {' and '.join(HEAD_LOSSES)} losses only; "
            f"this checkpoint was trained with {loss.get('name')!r}"
        )
    heads, out = [], {}
    for teacher, info in meta["teachers"].items():
        for layer in ("0", "2"):
            for kind in ("weight", "bias"):
                key = f"loss.heads.{teacher}.{layer}.{kind}"
                if key not in tensors:
                    raise ValueError(f"the checkpoint has no {key}")
                out[f"backbone.teacher_heads.{teacher}.{layer}.{kind}"] = tensors[key]
        heads.append([teacher, int(info["dim"])])
    hidden = int(tensors[f"loss.heads.{heads[0][0]}.0.weight"].shape[0])
    return out, {**meta["backbone"], "teacher_heads": heads, "head_hidden": hidden}


def export_student(ckpt: Path, out_dir: Path, teacher_heads: bool = False) -> Path:
    """Copy the backbone weights and metadata of checkpoint ``ckpt`` to ``out_dir`` atomically.

    With ``teacher_heads`` the student's rows are its embedding followed by every teacher
    head's prediction (see :class:`molmtd.backbones.gnn.MolGNN`); the heads come from the
    checkpoint's loss (MSE or cosine).
    """
    tensors, meta, _ = load_checkpoint(ckpt)
    backbone = {f"backbone.{k}": v for k, v in split_tensors(tensors, "backbone").items()}
    if teacher_heads:
        heads, config = teacher_head_tensors(tensors, meta)
        backbone.update(heads)
        rows = int(meta["dim"]) + sum(width for _, width in config["teacher_heads"])
        meta = {**meta, "backbone": config, "dim": rows}
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        save_file(backbone, str(tmp / WEIGHTS), metadata={"format": "pt"})
        (tmp / META).write_text(
            json.dumps({**meta, "checkpoint": ckpt.name}, indent=2, sort_keys=True, default=str)
            + "\n"
        )
        # A minimal card with the weights' sha256, so the export loads verified by path.
        digest = sha256_file(tmp / WEIGHTS)
        card = {"name": out_dir.parent.name, "sha256": digest, "exported_from": ckpt.name,
                "meta_sha256": sha256_file(tmp / META)}  # fmt: skip
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
        old = out_dir.with_name(f".{out_dir.name}.old")
        if out_dir.exists():
            if old.exists():
                shutil.rmtree(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
