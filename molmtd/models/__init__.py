"""Shipped student weights and their model cards.

Each model is a folder ``molmtd/models/<name>/`` with ``model.safetensors`` (the student
backbone), ``meta.json`` (what :func:`molmtd.training.inference.load_student` needs to rebuild
it) and ``card.json`` (teachers and their config hashes, corpus, recipe command, training time
and hardware, benchmark summary, and the sha256 of the weights, checked at load).
``DEFAULT`` names the model that ``Featurizer(model="default")`` loads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

MODELS_DIR = Path(__file__).resolve().parent
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
DEFAULT_FILE = "DEFAULT"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
    KeyError
        Unknown model name.
    ValueError
        The weights on disk do not match the sha256 recorded in the model card.
    """
    if name == "default":
        name = default_model_name()
    folder = MODELS_DIR / name
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        raise KeyError(f"unknown model {name!r}; shipped models: {sorted(list_models())}")
    if verify:
        card = json.loads(card_path.read_text())
        actual = sha256_file(folder / WEIGHTS_FILE)
        if actual != card["sha256"]:
            raise ValueError(
                f"model {name!r}: sha256 of {WEIGHTS_FILE} is {actual}, the model card says "
                f"{card['sha256']}; the file is corrupt or was replaced"
            )
    return folder


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the shipped student models")
    parser.add_argument("--json", action="store_true", help="print the full model cards")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    models = list_models()
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    if not models:
        print("no shipped models")
        return 0
    try:
        default = default_model_name()
    except FileNotFoundError:
        default = None
    for name, card in models.items():
        flag = " (default)" if name == default else ""
        teachers = ", ".join(card.get("teachers", {}))
        print(f"{name}{flag}: dim {card.get('dim')}, {card.get('n_parameters')} params, "
              f"corpus {card.get('corpus', {}).get('name')} "
              f"({card.get('corpus', {}).get('n_molecules')} mol); teachers: {teachers}")
    return 0
