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
import warnings
from pathlib import Path
from typing import Any

from molmtd.errors import UserError
from molmtd.utils import write_json

MODELS_DIR = Path(__file__).resolve().parent
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
DEFAULT_FILE = "DEFAULT"


class ModelFileError(UserError, ValueError):
    """A model's files are corrupt, replaced or unreadable; the message names the file."""


class UnknownModelError(UserError, KeyError):
    """Neither a shipped model name nor an existing path."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnverifiedModelWarning(UserWarning):
    """A model folder loaded by path has no model card with a sha256 to check it against."""


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


def read_card(folder: Path) -> dict[str, Any] | None:
    """The model card in ``folder``, None if it has none; a garbled card raises."""
    path = Path(folder) / CARD_FILE
    if not path.is_file():
        return None
    try:
        card = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: not a valid model card ({err})") from None
    if not isinstance(card, dict):
        raise ModelFileError(f"{path}: not a valid model card (not a JSON object)")
    return card


def verify_weights(folder: Path, label: str | None = None) -> str | None:
    """Check ``folder/model.safetensors`` and ``meta.json`` against ``folder/card.json``.

    Parameters
    ----------
    folder
        A student folder (``model.safetensors`` + ``meta.json``, maybe ``card.json``).
    label
        How to name the model in messages (default: the weights file's path).

    Returns
    -------
    str or None
        The verified sha256, or None (with an :class:`UnverifiedModelWarning`) when the
        folder has no card recording one, or a card that does not cover ``meta.json``.

    Raises
    ------
    ModelFileError
        The weights' or meta.json's sha256 differs from the card's (the message names the
        file and both hashes).
    """
    folder = Path(folder)
    weights = folder / WEIGHTS_FILE
    card = read_card(folder)
    expected = card.get("sha256") if card else None
    if not expected:
        warnings.warn(
            f"{weights} is unverified: no {CARD_FILE} with a sha256 beside it, so corruption "
            f"or replacement would go unnoticed",
            UnverifiedModelWarning,
            stacklevel=3,
        )
        return None
    _check_file(weights, expected, label)
    # meta.json decides the architecture (pooling, widths, standardisation): covered too
    meta_expected = card.get("meta_sha256")
    if not meta_expected:  # a card from before meta.json was covered: not called verified
        warnings.warn(
            f"{folder / 'meta.json'} is unverified: {folder / CARD_FILE} records no "
            f"meta_sha256 (a card from an older molmtd); regenerate it to verify the folder",
            UnverifiedModelWarning,
            stacklevel=3,
        )
        return None
    _check_file(folder / "meta.json", meta_expected, label)
    return expected


def _check_file(path: Path, expected: str, label: str | None = None) -> None:
    """Raise :class:`ModelFileError` unless ``path``'s sha256 is ``expected``."""
    if not path.is_file():
        raise ModelFileError(f"{label + ': ' if label else ''}{path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelFileError(
            f"{label + ': ' if label else ''}sha256 of {path} is {actual}, but {CARD_FILE} "
            f"records {expected}; the file is corrupt or was replaced"
        )


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
    from molmtd.training.inference import resolve_student_path

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


def load_domain_reference(folder: Path, card: dict[str, Any] | None) -> Any:
    """The folder's applicability-domain reference (None if it ships none), sha256-checked.

    Raises
    ------
    ModelFileError
        Its sha256 differs from the card's ``domain.sha256``, or it is unreadable.
    """
    from safetensors import SafetensorError

    from molmtd.domain import DOMAIN_FILE, DomainReference

    path = Path(folder) / DOMAIN_FILE
    if not path.is_file():
        return None
    expected = ((card or {}).get("domain") or {}).get("sha256")
    if expected:
        _check_file(path, expected)
    elif (card or {}).get("sha256"):  # a verified model: every file that shapes its output
        raise ModelFileError(
            f"{path}: {Path(folder) / CARD_FILE} records no domain.sha256 for it; "
            f"regenerate the card or remove the file"
        )
    try:
        return DomainReference.load(path)
    except (SafetensorError, KeyError):
        raise ModelFileError(f"{path}: not a readable domain reference") from None


def _load_checked(root: Path, device: str) -> Any:
    """``load_student(root)``, its file and library errors turned into one-line errors."""
    from safetensors import SafetensorError

    from molmtd.training.inference import load_student

    try:
        return load_student(root, device=device)
    except SafetensorError:
        problem = (root / WEIGHTS_FILE, "not a readable safetensors file (truncated or garbled?)")
    except (UnicodeDecodeError, json.JSONDecodeError):
        problem = (root / "meta.json", "not valid JSON (truncated or garbled?)")
    except (KeyError, TypeError):
        problem = (root / "meta.json", "does not describe a student backbone")
    except RuntimeError as err:
        if "state_dict" not in str(err):
            raise
        problem = (root / WEIGHTS_FILE, "does not match the architecture in meta.json")
    raise ModelFileError(f"{problem[0]}: {problem[1]}")


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
        "meta_sha256": sha256_file(dest / "meta.json"),
        "licence": "MIT (weights produced by this project's recipe)",
    }
    write_json(dest / CARD_FILE, card)
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
