"""The students shipped in the package: ``molmtd/models/<name>/`` and the ``DEFAULT`` pointer.

Each model is a folder with ``model.safetensors``, ``meta.json`` and ``card.json`` (teachers,
corpus, recipe command, benchmark summary and sha256s; see :mod:`molmtd.student.cards`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from molmtd.student.cards import UnknownModelError, verify_weights
from molmtd.student.files import CARD_FILE

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEFAULT_FILE = "DEFAULT"


def list_models() -> dict[str, dict[str, Any]]:
    """Shipped models: ``{name: model card}``."""
    models = {}
    for card_path in sorted(MODELS_DIR.glob(f"*/{CARD_FILE}")):
        models[card_path.parent.name] = json.loads(card_path.read_text())
    return models


def default_model_name() -> str:
    """Name of the model ``"default"`` resolves to."""
    pointer = MODELS_DIR / DEFAULT_FILE
    if not pointer.is_file():
        raise FileNotFoundError(
            "this installation ships no default model (molmtd/models/DEFAULT is missing); "
            "pass model=<path of a trained run or checkpoint>"
        )
    return pointer.read_text().strip()


def model_dir(name: str, verify: bool = True) -> Path:
    """Folder of shipped model ``name`` (``"default"`` allowed), sha256-checked.

    Raises
    ------
    UnknownModelError
        Unknown model name (a ``KeyError``).
    ModelFileError
        The weights on disk do not match the sha256 recorded in the model card (a
        ``ValueError``).
    """
    if name == "default":
        name = default_model_name()
    folder = MODELS_DIR / name
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        raise UnknownModelError(
            f"unknown model {name!r}: not a shipped model ({', '.join(sorted(list_models()))}) "
            f"nor an existing path"
        )
    if verify:
        verify_weights(folder, label=f"model {name!r}")
    return folder
