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

    from molmtd.training.inference import load_student, resolve_student_path

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
        "licence": "MIT (weights produced by this project's recipe)",
    }
    (dest / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True, default=str) + "\n")
    if make_default:
        (MODELS_DIR / DEFAULT_FILE).write_text(name + "\n")
    return dest


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
        print(
            f"{name}{flag}: dim {card.get('dim')}, {card.get('n_parameters')} params, "
            f"corpus {card.get('corpus', {}).get('name')} "
            f"({card.get('corpus', {}).get('n_molecules')} mol); teachers: {teachers}"
        )
    return 0
