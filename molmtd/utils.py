"""Small shared helpers: stable config hashing, seeding, quiet RDKit, atomic file writes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

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


def fsync_dir(path: str | Path) -> None:
    """Flush a directory's entries (a rename inside it) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: Literal["wb", "w"] = "wb") -> Iterator[IO[Any]]:
    """Write a file so that ``path`` holds either its old content or the whole new one.

    The block writes to a temporary file beside ``path`` (``.NAME.tmp-PID-RANDOM``, created
    with the usual permissions). On a clean exit it is flushed and fsynced, moved onto
    ``path`` with :func:`os.replace`, and the folder is fsynced. On an exception it is
    removed and ``path`` is untouched; a kill leaves ``path`` untouched too (and perhaps the
    temporary file).

    Parameters
    ----------
    path
        The file to write; its folder is created if missing.
    mode
        ``"wb"`` (bytes) or ``"w"`` (UTF-8 text).

    Yields
    ------
    IO
        The temporary file, open for writing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "xb") if mode == "wb" else open(tmp, "x", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_open`)."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, UTF-8 (:func:`atomic_open`)."""
    with atomic_open(path, "w") as fh:
        fh.write(text)


def atomic_save_npy(path: str | Path, arr: np.ndarray) -> None:
    """:func:`numpy.save` ``arr`` to ``path`` atomically (:func:`atomic_open`), no pickles."""
    with atomic_open(path, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)


def write_json(
    path: str | Path,
    obj: Any,
    default: Callable[[Any], Any] = str,
    indent: int = 2,
    sort_keys: bool = True,
) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (:func:`atomic_open`), newline-terminated.

    Parameters
    ----------
    path
        The file to write.
    obj
        What to serialise.
    default
        ``json.dumps`` hook for values JSON cannot hold: :class:`str` (default) writes their
        text, :func:`json_default` turns NumPy arrays and scalars into lists and numbers.
    indent, sort_keys
        As in :func:`json.dumps`.
    """
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, default=default)
    atomic_write_text(path, text + "\n")
