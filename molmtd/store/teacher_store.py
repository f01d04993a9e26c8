"""``TeacherStore``: a chunked on-disk store of teacher embeddings keyed by canonical SMILES.

Role: open or create a store, read rows (memory-mapped, any order), write and commit one
chunk, and keep ``manifest.json`` consistent under a file lock. The files themselves are
described in :mod:`molmtd.store.format`; filling a store is :mod:`molmtd.store.build`.
Imports: :mod:`molmtd.store.format` and :mod:`molmtd.store.stats` (never the build).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.store.format import (
    DEFAULT_CHUNK_SIZE,
    FORMAT_NAME,
    FORMAT_VERSION,
    StoreError,
    chunk_paths,
    index_keys,
    teacher_dir,
    write_new_store,
    write_store_json,
)
from molmtd.store.stats import summarize_chunks
from molmtd.utils import atomic_save_npy, rdkit_quiet


class TeacherStore:
    """Chunked, memory-mapped store of teacher embeddings for a fixed list of molecules.

    Create one with :meth:`create`, open an existing one with :meth:`open`, fill it with
    :func:`build_teacher`. Rows follow the order of the SMILES given at creation and never
    change; invalid SMILES keep their row, masked False for every teacher.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not (self.path / "manifest.json").is_file():
            raise StoreError(f"{self.path} is not a teacher store (no manifest.json)")
        self._manifest = self._read_manifest()
        if self._manifest.get("format") != FORMAT_NAME:
            raise StoreError(f"{self.path}: unknown format {self._manifest.get('format')!r}")
        if self._manifest.get("version", 0) > FORMAT_VERSION:
            raise StoreError(f"{self.path}: format version {self._manifest['version']} is newer")
        import pandas as pd

        index = pd.read_parquet(self.path / "index.parquet")
        if len(index) != self._manifest["n"] or not np.array_equal(
            index["row"].to_numpy(), np.arange(len(index))
        ):
            raise StoreError(f"{self.path}: index.parquet does not match manifest.json")
        self._smiles: list[str] = index["smiles"].tolist()
        self._valid = index["valid"].to_numpy(dtype=bool)
        self._row_of: dict[str, int] | None = None
        self._mmaps: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}

    # -- creation -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        smiles: Sequence[str],
        dtype: str = "float32",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        *,
        canonicalize: bool = True,
        metadata: dict[str, Any] | None = None,
        exist_ok: bool = False,
    ) -> TeacherStore:
        """Create an empty store for ``smiles`` (row order preserved).

        Parameters
        ----------
        path
            Directory to create (must not exist or be empty, unless ``exist_ok`` and it holds a
            store with exactly these SMILES, which is then opened).
        smiles
            The molecules. With ``canonicalize`` each is replaced by RDKit canonical SMILES;
            unparsable ones keep their row and input string, flagged invalid. Duplicates (after
            canonicalisation) keep their rows and are counted in the manifest.
        dtype
            Storage dtype of embeddings, ``"float32"`` or ``"float16"`` (halves disk and page
            cache; values beyond float16 range are clipped and counted per teacher).
        chunk_size
            Rows per chunk file: the unit of work, of atomic writes and of what a killed build
            can lose.
        metadata
            Extra JSON (e.g. the corpus report) stored under ``manifest["corpus"]``.
        """
        path = Path(path)
        if dtype not in ("float32", "float16"):
            raise ValueError("dtype must be 'float32' or 'float16'")
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        inputs, keys, valid = index_keys(smiles, canonicalize)
        if path.exists() and any(path.iterdir()):
            if exist_ok and (path / "manifest.json").is_file():
                store = cls(path)
                if store.smiles != keys:
                    raise StoreError(f"{path} holds a store for different SMILES")
                return store
            raise StoreError(f"{path} exists and is not empty")
        write_new_store(
            path,
            inputs,
            keys,
            valid,
            dtype=dtype,
            chunk_size=chunk_size,
            canonicalize=canonicalize,
            metadata=metadata,
        )
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> TeacherStore:
        """Open an existing store."""
        return cls(path)

    # -- manifest -------------------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, Any]:
        with open(self.path / "manifest.json") as fh:
            return json.load(fh)

    @contextlib.contextmanager
    def _locked_manifest(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write ``manifest.json`` under an exclusive file lock."""
        with open(self.path / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                manifest = self._read_manifest()
                yield manifest
                write_store_json(self.path / "manifest.json", manifest)
                self._manifest = manifest
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def refresh(self) -> None:
        """Re-read ``manifest.json`` (e.g. while another process builds)."""
        self._manifest = self._read_manifest()
        self._mmaps.clear()

    @property
    def manifest(self) -> dict[str, Any]:
        """The store manifest (a copy): counts, invalid SMILES, per-teacher records."""
        return json.loads(json.dumps(self._manifest))

    @property
    def smiles(self) -> list[str]:
        """Canonical SMILES in row order (the input string for invalid rows)."""
        return list(self._smiles)

    @property
    def valid(self) -> np.ndarray:
        """Bool [N]: the SMILES parsed."""
        return self._valid.copy()

    @property
    def dtype(self) -> str:
        return self._manifest["dtype"]

    @property
    def chunk_size(self) -> int:
        return int(self._manifest["chunk_size"])

    @property
    def n_chunks(self) -> int:
        return -(-len(self) // self.chunk_size)

    def __len__(self) -> int:
        return len(self._smiles)

    def __repr__(self) -> str:
        return f"TeacherStore({str(self.path)!r}, n={len(self)}, teachers={list(self.teachers)})"

    @property
    def teachers(self) -> dict[str, dict[str, Any]]:
        """``{name: {dim, config_hash, config, coverage, n_valid, n_failed, ...}}``."""
        keys = (
            "dim",
            "config_hash",
            "config",
            "family",
            "dtype",
            "status",
            "coverage",
            "n_covered",
            "n_valid",
            "n_failed",
            "limit",
        )
        return {
            name: {k: rec.get(k) for k in keys} for name, rec in self._manifest["teachers"].items()
        }

    def index_of(self, smiles: Sequence[str], canonicalize: bool = True) -> np.ndarray:
        """Row of each SMILES (first occurrence), -1 when absent."""
        from molmtd.data.corpus import canonical_smiles

        if self._row_of is None:
            self._row_of = {}
            for i, s in enumerate(self._smiles):
                self._row_of.setdefault(s, i)
        out = np.full(len(smiles), -1, dtype=np.int64)
        with rdkit_quiet():
            for j, s in enumerate(smiles):
                key = (canonical_smiles(s) or s) if canonicalize else s
                out[j] = self._row_of.get(key, -1)
        return out

    # -- chunk files ----------------------------------------------------------------------------
    def _teacher_dir(self, name: str) -> Path:
        return teacher_dir(self.path, name)

    def _chunk_paths(self, name: str, chunk: int) -> tuple[Path, Path, Path]:
        return chunk_paths(self.path, name, chunk)

    def chunk_rows(self, chunk: int) -> tuple[int, int]:
        """Half-open row range ``[start, stop)`` of a chunk."""
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, len(self))

    def chunk_meta(self, name: str, chunk: int) -> dict[str, Any] | None:
        """The commit record of a chunk, or None when the chunk is not (fully) written."""
        meta = self._chunk_paths(name, chunk)[2]
        if not meta.is_file():
            return None
        with open(meta) as fh:
            return json.load(fh)

    def _write_chunk(
        self, name: str, chunk: int, x: np.ndarray, mask: np.ndarray, meta: dict[str, Any]
    ) -> None:
        data_p, mask_p, meta_p = self._chunk_paths(name, chunk)
        data_p.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            meta_p.unlink()  # uncommit first when recomputing a chunk (e.g. a larger limit)
        self._mmaps.pop((name, chunk), None)
        atomic_save_npy(data_p, x)
        atomic_save_npy(mask_p, mask)
        write_store_json(meta_p, meta)

    def _chunk_arrays(self, name: str, chunk: int) -> tuple[np.ndarray, np.ndarray] | None:
        key = (name, chunk)
        if key in self._mmaps:
            return self._mmaps[key]
        data_p, mask_p, meta_p = self._chunk_paths(name, chunk)
        if not meta_p.is_file():
            return None  # not cached: it may be written later by a running build
        arrs = (np.load(data_p, mmap_mode="r"), np.load(mask_p, mmap_mode="r"))
        self._mmaps[key] = arrs
        return arrs

    # -- reads ----------------------------------------------------------------------------------
    def _record(self, name: str) -> dict[str, Any]:
        rec = self._manifest["teachers"].get(name)
        if rec is None:
            self.refresh()
            rec = self._manifest["teachers"].get(name)
        if rec is None:
            raise KeyError(f"teacher {name!r} not in store; has {sorted(self.teachers)}")
        return rec

    def read(
        self,
        name: str,
        indices: Sequence[int] | np.ndarray | slice,
        dtype: Any = np.float32,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``indices`` (any order, repeats allowed) of teacher ``name``.

        Returns
        -------
        x : array [len(indices), dim]
            ``dtype`` (float32 by default; None keeps the storage dtype). NaN where masked.
        mask : bool array [len(indices)]
            False for invalid SMILES, molecules the teacher failed on, and rows not computed
            (beyond a ``limit`` or in chunks not built yet).
        """
        rec = self._record(name)
        n = len(self)
        if isinstance(indices, slice):
            idx = np.arange(n)[indices]
        else:
            idx = np.asarray(indices, dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < -n or idx.max() >= n):
                raise IndexError(f"row index out of range for store of {n} rows")
            idx = np.where(idx < 0, idx + n, idx)
        store_dtype = np.dtype(rec.get("dtype", self.dtype))
        out_dtype = store_dtype if dtype is None else np.dtype(dtype)
        x = np.full((idx.size, rec["dim"]), np.nan, dtype=out_dtype)
        mask = np.zeros(idx.size, dtype=bool)
        chunks = idx // self.chunk_size
        order = np.argsort(chunks, kind="stable")
        sorted_chunks = chunks[order]
        bounds = np.flatnonzero(np.diff(sorted_chunks)) + 1
        for group in np.split(order, bounds):
            if group.size == 0:
                continue
            c = int(chunks[group[0]])
            arrs = self._chunk_arrays(name, c)
            if arrs is None:
                continue
            local = idx[group] - c * self.chunk_size
            x[group] = arrs[0][local]
            mask[group] = arrs[1][local]
        return x, mask

    def read_all(self, name: str, dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
        """All rows of teacher ``name`` (in memory): ``(x [N, dim], mask [N])``."""
        return self.read(name, slice(None), dtype=dtype)

    def iter_chunks(self, name: str) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """Yield ``(start, stop, x, mask)`` memory-mapped views of each built chunk."""
        self._record(name)
        for c in range(self.n_chunks):
            arrs = self._chunk_arrays(name, c)
            if arrs is not None:
                yield (*self.chunk_rows(c), arrs[0], arrs[1])

    # -- maintenance ----------------------------------------------------------------------------
    def remove_teacher(self, name: str) -> None:
        """Delete a teacher's data and manifest record."""
        with self._locked_manifest() as manifest:
            manifest["teachers"].pop(name, None)
        self._mmaps = {k: v for k, v in self._mmaps.items() if k[0] != name}
        if self._teacher_dir(name).exists():
            shutil.rmtree(self._teacher_dir(name))

    def summarize_teacher(self, name: str) -> dict[str, Any]:
        """Aggregate the committed chunks of ``name`` (the source of truth) into counts."""
        return summarize_chunks((self.chunk_meta(name, c) for c in range(self.n_chunks)), len(self))
