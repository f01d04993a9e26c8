"""Model cards: the sha256 of every file that shapes a student's rows, checked before use.

``card.json`` beside ``model.safetensors`` records the sha256 of the weights
(``sha256``), of ``meta.json`` (``meta_sha256``) and of the applicability-domain reference
(``domain.sha256``). A folder without a card loads with an :class:`UnverifiedModelWarning`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from molmtd.errors import UserError
from molmtd.student.files import CARD_FILE, WEIGHTS, sha256_file

WEIGHTS_FILE = WEIGHTS


class ModelFileError(UserError, ValueError):
    """A model's files are corrupt, replaced or unreadable; the message names the file."""


class UnknownModelError(UserError, KeyError):
    """Neither a shipped model name nor an existing path."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnverifiedModelWarning(UserWarning):
    """A model folder loaded by path has no model card with a sha256 to check it against."""


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
    check_file(weights, expected, label)
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
    check_file(folder / "meta.json", meta_expected, label)
    return expected


def check_file(path: Path, expected: str, label: str | None = None) -> None:
    """Raise :class:`ModelFileError` unless ``path``'s sha256 is ``expected``."""
    if not path.is_file():
        raise ModelFileError(f"{label + ': ' if label else ''}{path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelFileError(
            f"{label + ': ' if label else ''}sha256 of {path} is {actual}, but {CARD_FILE} "
            f"records {expected}; the file is corrupt or was replaced"
        )


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
        check_file(path, expected)
    elif (card or {}).get("sha256"):  # a verified model: every file that shapes its output
        raise ModelFileError(
            f"{path}: {Path(folder) / CARD_FILE} records no domain.sha256 for it; "
            f"regenerate the card or remove the file"
        )
    try:
        return DomainReference.load(path)
    except (SafetensorError, KeyError):
        raise ModelFileError(f"{path}: not a readable domain reference") from None
