"""The on-disk format of a teacher store: layout, names, atomic writes, a new store's files.

Role: everything that fixes what a store directory looks like, so that the reader
(:mod:`molmtd.store.teacher_store`) and the build (:mod:`molmtd.store.build`) agree on it.
Imports: the standard library, NumPy, pandas (lazily) and :mod:`molmtd.utils` /
:mod:`molmtd.data.corpus`; nothing else of :mod:`molmtd.store`.

Layout of a store directory (format version 1)::

    STORE/
      manifest.json                 # store + per-teacher summary (counts, coverage, failures,
                                    # config + hash, package versions, timings)
      index.parquet                 # row order: row, smiles (canonical), input, valid
      teachers/<name>/
        fitted.pkl                  # only for requires_fit teachers: the fitted teacher
        chunks/c000000.npy          # [chunk_size, dim] float32 or float16, NaN where masked
        chunks/c000000.mask.npy     # [chunk_size] bool
        chunks/c000000.json         # chunk commit marker: rows covered, failures, timings

A chunk is committed when its ``.json`` exists. Each of the three files is written to a
temporary name, fsynced and moved into place with :func:`os.replace` (atomic on POSIX;
:func:`molmtd.utils.atomic_open`), the ``.json`` last, so a build killed at any point
(``kill -9`` included) leaves only whole chunks; a rerun recomputes the chunks without a
marker and nothing else. Reads memory-map the ``.npy`` chunks (:func:`numpy.load` with
``mmap_mode="r"``), so a training batch of random rows touches only the pages it needs.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.utils import atomic_open, json_default, rdkit_quiet, stable_json, write_json

log = logging.getLogger(__name__)

FORMAT_NAME = "molmtd-teacher-store"
FORMAT_VERSION = 1
DEFAULT_CHUNK_SIZE = 1024
#: Failures listed per teacher in ``manifest.json`` (all of them stay in the chunk ``.json``).
MAX_LISTED_FAILURES = 10_000
FLOAT16_MAX = float(np.finfo(np.float16).max)
_VERSION_PACKAGES = (
    "molmtd",
    "rdkit",
    "numpy",
    "torch",
    "torchani",
    "transformers",
    "e3fp",
    "fcd_torch",
    "rxnfp",
    "rxnmapper",
    "scikit-learn",
    "dask",
    "distributed",
)


class StoreError(RuntimeError):
    """A store is missing, malformed or used inconsistently."""


class ConfigMismatchError(StoreError):
    """A teacher with the same name but a different configuration is already in the store."""


def now() -> str:
    """UTC time stamp of manifest and chunk records."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions(packages: Iterable[str] = _VERSION_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that can change embeddings (absent ones omitted)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def teacher_config(teacher: Any) -> dict[str, Any]:
    """A teacher's configuration as plain JSON (what its config hash is computed from)."""
    return json.loads(stable_json(dict(teacher.config)))


# ----------------------------------------------------------------------------------------------
# atomic writes and file names
# ----------------------------------------------------------------------------------------------


def write_store_json(path: Path, obj: Any) -> None:
    """A store's JSON file (manifest, chunk record), atomically: NumPy values as numbers."""
    write_json(path, obj, default=json_default, indent=1, sort_keys=False)


def teacher_dir(store_path: Path, name: str) -> Path:
    """``STORE/teachers/<name>``."""
    return store_path / "teachers" / name


def chunk_paths(store_path: Path, name: str, chunk: int) -> tuple[Path, Path, Path]:
    """The data, mask and commit-record files of a chunk."""
    base = teacher_dir(store_path, name) / "chunks" / f"c{chunk:06d}"
    return (
        base.with_name(base.name + ".npy"),
        base.with_name(base.name + ".mask.npy"),
        base.with_name(base.name + ".json"),
    )


def to_storage_dtype(x: np.ndarray, dtype: str) -> tuple[np.ndarray, int]:
    """``x`` in the store's dtype, and how many values were clipped to the float16 range."""
    if dtype != "float16":
        return x, 0
    over = np.isfinite(x) & (np.abs(x) > FLOAT16_MAX)
    n_clipped = int(over.sum())
    if n_clipped:
        x = np.where(over, np.sign(x) * FLOAT16_MAX, x)
    return x.astype(np.float16), n_clipped


# ----------------------------------------------------------------------------------------------
# a new store
# ----------------------------------------------------------------------------------------------


def index_keys(
    smiles: Sequence[str], canonicalize: bool
) -> tuple[list[str], list[str], np.ndarray]:
    """``(inputs, keys, valid)``: the input strings, the row keys (canonical SMILES, the input
    for invalid rows) and the parse flags."""
    from molmtd.data.corpus import canonical_smiles

    inputs = [str(s) for s in smiles]
    if canonicalize:
        with rdkit_quiet():
            canon = [canonical_smiles(s) for s in inputs]
    else:
        canon = [s if s else None for s in inputs]
    valid = np.array([c is not None for c in canon], dtype=bool)
    keys = [c if c is not None else s for c, s in zip(canon, inputs)]
    return inputs, keys, valid


def write_new_store(
    path: Path,
    inputs: list[str],
    keys: list[str],
    valid: np.ndarray,
    *,
    dtype: str,
    chunk_size: int,
    canonicalize: bool,
    metadata: dict[str, Any] | None,
) -> None:
    """Write ``index.parquet`` and then ``manifest.json`` (which marks a store) into ``path``."""
    import pandas as pd

    seen: dict[str, int] = {}
    duplicates = []
    for i, k in enumerate(keys):
        if valid[i]:
            if k in seen:
                duplicates.append({"row": i, "first_row": seen[k], "smiles": k})
            else:
                seen[k] = i
    invalid = [{"row": int(i), "smiles": inputs[i]} for i in np.flatnonzero(~valid)]
    if invalid or duplicates:
        log.warning(
            "store %s: %d invalid SMILES (masked for every teacher), %d duplicates",
            path,
            len(invalid),
            len(duplicates),
        )
    path.mkdir(parents=True, exist_ok=True)
    (path / "teachers").mkdir(exist_ok=True)
    index = pd.DataFrame(
        {
            "row": np.arange(len(keys), dtype=np.int64),
            "smiles": keys,
            "input": inputs,
            "valid": valid,
        }
    )
    with atomic_open(path / "index.parquet") as fh:
        index.to_parquet(fh, index=False)
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": now(),
        "n": len(keys),
        "n_valid_smiles": int(valid.sum()),
        "n_invalid": len(invalid),
        "invalid": invalid,
        "n_duplicate": len(duplicates),
        "duplicates": duplicates[:MAX_LISTED_FAILURES],
        "dtype": dtype,
        "chunk_size": int(chunk_size),
        "n_chunks": -(-len(keys) // chunk_size),
        "canonicalized": bool(canonicalize),
        "corpus": metadata or {},
        "packages": package_versions(),
        "teachers": {},
    }
    write_store_json(path / "manifest.json", manifest)  # written last: marks a store
