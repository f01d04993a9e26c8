"""Shipped student weights and their model cards, and :func:`ship_model` that adds one.

Each model is a folder ``molmtd/models/<name>/`` with ``model.safetensors`` (the student
backbone), ``meta.json`` (what :func:`molmtd.student.load_student` needs to rebuild it) and
``card.json`` (teachers and their config hashes, corpus, recipe command, training time and
hardware, benchmark summary, and the sha256 of the weights, checked at load).
``DEFAULT`` names the model that ``Featurizer(model="default")`` loads. Loading and checking
live in :mod:`molmtd.student`; the names below are the public face of the shipped models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from molmtd.student.cards import (
    ModelFileError,
    UnknownModelError,
    UnverifiedModelWarning,
    load_domain_reference,
    read_card,
    verify_weights,
)
from molmtd.student.files import CARD_FILE, WEIGHTS, resolve_student_path, sha256_file
from molmtd.student.loading import load_model, load_student
from molmtd.student.shipped import (
    DEFAULT_FILE,
    MODELS_DIR,
    default_model_name,
    list_models,
    model_dir,
)
from molmtd.utils import write_json

WEIGHTS_FILE = WEIGHTS

__all__ = [
    "CARD_FILE",
    "DEFAULT_FILE",
    "MODELS_DIR",
    "WEIGHTS_FILE",
    "ModelFileError",
    "UnknownModelError",
    "UnverifiedModelWarning",
    "default_model_name",
    "list_models",
    "load_domain_reference",
    "load_model",
    "model_dir",
    "read_card",
    "sha256_file",
    "ship_model",
    "verify_weights",
]


def ship_model(
    run_dir: str | Path,
    name: str,
    recipe: str,
    corpus: dict[str, Any],
    hardware: str,
    benchmark: dict[str, Any] | None = None,
    make_default: bool = False,
) -> Path:
    """Copy a trained run's student into the package with a model card (sha256 included).

    Parameters
    ----------
    run_dir
        A training run (its ``student/`` export of the best checkpoint is shipped).
    name
        Folder name under ``molmtd/models``.
    recipe
        The command(s) that reproduce the run.
    corpus
        ``{"name": ..., "n_molecules": ...}`` of the pre-training corpus.
    hardware
        Where it was trained, e.g. ``"2 CPU cores (shared)"``.
    benchmark
        Summary numbers and the command that produced them.
    """
    import shutil

    src = resolve_student_path(Path(run_dir) / "student")
    meta = json.loads((src / "meta.json").read_text())
    dest = MODELS_DIR / name
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / WEIGHTS_FILE, dest / WEIGHTS_FILE)
    shutil.copyfile(src / "meta.json", dest / "meta.json")
    student = load_student(dest)
    log = Path(run_dir) / "log.csv"
    train_seconds = None
    if log.is_file():
        import pandas as pd

        times = pd.read_csv(log)["time"].astype(float)
        train_seconds = round(float(times.max() - times.min()), 1)
    card = {
        "name": name,
        "dim": int(student.dim),
        "n_parameters": int(sum(p.numel() for p in student.parameters())),
        "backbone": meta["backbone"],
        "teachers": {
            k: {kk: v.get(kk) for kk in ("dim", "config_hash", "family", "coverage", "n_valid")}
            for k, v in meta["teachers"].items()
        },
        "loss": meta["loss"],
        "corpus": corpus,
        "recipe": recipe,
        "training": {
            "steps": meta.get("step"),
            "epochs": meta.get("epoch"),
            "best_validation": meta.get("metrics"),
            "wall_seconds": train_seconds,
            "hardware": hardware,
            "torch": meta.get("torch"),
            "git_commit": meta.get("git_commit"),
        },
        "benchmark": benchmark or {},
        "sha256": sha256_file(dest / WEIGHTS_FILE),
        "meta_sha256": sha256_file(dest / "meta.json"),
        "licence": "MIT (weights produced by this project's recipe)",
    }
    write_json(dest / CARD_FILE, card)
    if make_default:
        (MODELS_DIR / DEFAULT_FILE).write_text(name + "\n")
    return dest
