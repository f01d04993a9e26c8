"""Small shared helpers: stable config hashing, seeding, quiet RDKit."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np


def stable_json(obj: Any) -> str:
    """Serialise ``obj`` to canonical JSON (sorted keys, no whitespace)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=json_default)


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` hook for NumPy arrays and scalars."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def config_hash(config: Mapping[str, Any], length: int = 16) -> str:
    """Hex digest identifying a configuration; equal configs give equal hashes."""
    return hashlib.sha256(stable_json(dict(config)).encode()).hexdigest()[:length]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch RNGs."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeds the legacy global RNG that libraries still use
    torch.manual_seed(seed)


def parse_mol(smiles: object) -> Any | None:
    """Parse one SMILES into an RDKit ``Mol``; None if it is not a molecule we can embed.

    Non-strings, blank strings and molecules with zero atoms are invalid (RDKit parses ``""``
    into an empty molecule). RDKit's parse warnings are not silenced here; wrap calls in
    :func:`rdkit_quiet`.
    """
    from rdkit import Chem

    if not isinstance(smiles, str) or not smiles.strip():
        return None
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return mol


@contextlib.contextmanager
def rdkit_quiet() -> Iterator[None]:
    """Silence RDKit's C++ log (parse warnings) inside the block."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def progress_bar(*args: Any, **kwargs: Any) -> Any:
    """A tqdm bar: the notebook widget when ipywidgets is installed, else the text bar.

    ``tqdm.auto`` in Jupyter without ipywidgets warns "IProgress not found" and falls back;
    checking for ipywidgets first gives the text bar without the warning.
    """
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    return tqdm(*args, **kwargs)
