"""``TeacherStore``: a chunked on-disk store of teacher embeddings keyed by canonical SMILES.

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
temporary name and moved into place with :func:`os.replace` (atomic on POSIX), the ``.json``
last, so a build killed at any point (``kill -9`` included) leaves only whole chunks; a
rerun recomputes the chunks without a marker and nothing else. Reads memory-map the ``.npy``
chunks (:func:`numpy.load` with ``mmap_mode="r"``), so a training batch of random rows touches
only the pages it needs.

Builds run on a local process pool (``concurrent.futures.ProcessPoolExecutor`` with the
``forkserver``/``spawn`` start method) or on a Dask distributed cluster; in both cases the
workers only compute and return arrays, and the driver process writes the store.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import logging
import os
import pickle
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.utils import config_hash, json_default, rdkit_quiet, stable_json

log = logging.getLogger(__name__)

FORMAT_NAME = "molmtd-teacher-store"
FORMAT_VERSION = 1
DEFAULT_CHUNK_SIZE = 1024
#: Failures listed per teacher in ``manifest.json`` (all of them stay in the chunk ``.json``).
MAX_LISTED_FAILURES = 10_000
_FLOAT16_MAX = float(np.finfo(np.float16).max)
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


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def package_versions(packages: Iterable[str] = _VERSION_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that can change embeddings (absent ones omitted)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _atomic_write_json(path: Path, obj: Any) -> None:
    _atomic_write_bytes(path, json.dumps(obj, indent=1, default=json_default).encode())


def _atomic_save_npy(path: Path, arr: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)
    os.replace(tmp, path)


def _teacher_config(teacher: Any) -> dict[str, Any]:
    cfg = teacher.config
    return json.loads(stable_json(dict(cfg)))


def _teacher_family(name: str) -> str | None:
    try:
        from molmtd.teachers.base import list_teachers

        return list_teachers().get(name)
    except Exception:  # registry import problems must not break a build
        return None


# ----------------------------------------------------------------------------------------------
# worker side
# ----------------------------------------------------------------------------------------------

_WORKER_TEACHER: Any = None


def _worker_init(teacher_bytes: bytes) -> None:
    """Process-pool initializer: one thread per worker, unpickle the teacher once."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    global _WORKER_TEACHER
    _WORKER_TEACHER = pickle.loads(teacher_bytes)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _check_output(teacher: Any, x: Any, mask: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float32)
    mask = np.asarray(mask, dtype=bool)
    if x.shape != (n, teacher.dim) or mask.shape != (n,):
        raise ValueError(
            f"teacher {teacher.name!r} returned shapes {x.shape}, {mask.shape}; "
            f"expected ({n}, {teacher.dim}), ({n},)"
        )
    return x, mask


def _last_errors(teacher: Any) -> dict[int, str]:
    errs = getattr(teacher, "last_errors", None)
    if not errs:
        return {}
    return {int(k): str(v) for k, v in dict(errs).items()}


def _teacher_report(teacher: Any, into: dict[str, Any]) -> None:
    """Add the counts of a teacher's ``last_report`` (and ``last_truncated``) to ``into``."""
    report = getattr(teacher, "last_report", None)
    if isinstance(report, dict):
        for key, val in report.items():
            if isinstance(val, bool | np.bool_):
                continue
            if isinstance(val, int | float | np.integer | np.floating):
                into[key] = into.get(key, 0) + (val.item() if hasattr(val, "item") else val)
            elif isinstance(val, dict):
                sub = into.setdefault(key, {})
                for k2, v2 in val.items():
                    if isinstance(v2, int | float | np.integer | np.floating):
                        sub[str(k2)] = sub.get(str(k2), 0) + float(v2)
    truncated = getattr(teacher, "last_truncated", None)
    if truncated is not None:
        into["n_truncated"] = into.get("n_truncated", 0) + len(truncated)


def embed_chunk(teacher: Any, smiles: Sequence[str]) -> dict[str, Any]:
    """Embed one chunk robustly (runs in workers).

    The whole batch is embedded at once; if that raises, each molecule is embedded alone and
    the ones that raise are masked with their error message. Rows returned with mask True but
    non-finite values are masked too (recorded as failures), and masked rows are set to NaN.

    Returns
    -------
    dict
        ``x`` (float32 [n, dim]), ``mask`` (bool [n]), ``errors`` ({position: message} for
        molecules that raised or that the teacher reported via ``last_errors``),
        ``seconds`` (compute time), ``batch_error`` (message when the batch call raised) and
        ``teacher_report`` (numeric counts of the teacher's ``last_report`` summed over the
        calls, e.g. conformer failures of 3D teachers) and ``systemic`` (True when every
        molecule raised the same error: such a chunk is not committed, see
        :func:`build_teacher`).
    """
    t0 = time.perf_counter()
    n = len(smiles)
    errors: dict[int, str] = {}
    report: dict[str, Any] = {}
    batch_error = None
    raised: set[str] = set()
    n_raised = 0
    with rdkit_quiet():
        try:
            x, mask = _check_output(teacher, *teacher.embed(list(smiles)), n)
            errors.update(_last_errors(teacher))
            _teacher_report(teacher, report)
        except Exception as err:
            batch_error = f"{type(err).__name__}: {err}"
            x = np.full((n, teacher.dim), np.nan, dtype=np.float32)
            mask = np.zeros(n, dtype=bool)
            for i, smi in enumerate(smiles):
                try:
                    xi, mi = _check_output(teacher, *teacher.embed([smi]), 1)
                    x[i], mask[i] = xi[0], mi[0]
                    _teacher_report(teacher, report)
                    if not mi[0] and 0 in _last_errors(teacher):
                        errors[i] = _last_errors(teacher)[0]
                except Exception as err_i:
                    errors[i] = f"{type(err_i).__name__}: {err_i}"
                    x[i], mask[i] = np.nan, False
                    raised.add(errors[i])
                    n_raised += 1
    x = np.array(x, dtype=np.float32, copy=True)
    mask = np.array(mask, dtype=bool, copy=True)
    bad = mask & ~np.isfinite(x).all(axis=1)
    for i in np.flatnonzero(bad):
        errors[int(i)] = "non-finite values in embedding"
    mask &= ~bad
    x[~mask] = np.nan
    return {
        "x": x,
        "mask": mask,
        "errors": errors,
        "seconds": time.perf_counter() - t0,
        "batch_error": batch_error,
        "teacher_report": report,
        # every molecule raised the same error: the teacher is broken, not the molecules
        "systemic": n >= 2 and n_raised == n and len(raised) == 1,
    }


def _embed_chunk_pool(task_id: int, smiles: Sequence[str]) -> tuple[int, dict[str, Any]]:
    return task_id, embed_chunk(_WORKER_TEACHER, smiles)


def _embed_chunk_dask(teacher: Any, task_id: int, smiles: Sequence[str]) -> tuple[int, dict]:
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    return task_id, embed_chunk(teacher, smiles)


# ----------------------------------------------------------------------------------------------
# the store
# ----------------------------------------------------------------------------------------------


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
        import pandas as pd

        from molmtd.data.corpus import canonical_smiles

        path = Path(path)
        if dtype not in ("float32", "float16"):
            raise ValueError("dtype must be 'float32' or 'float16'")
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        inputs = [str(s) for s in smiles]
        if canonicalize:
            with rdkit_quiet():
                canon = [canonical_smiles(s) for s in inputs]
        else:
            canon = [s if s else None for s in inputs]
        valid = np.array([c is not None for c in canon], dtype=bool)
        keys = [c if c is not None else s for c, s in zip(canon, inputs)]
        if path.exists() and any(path.iterdir()):
            if exist_ok and (path / "manifest.json").is_file():
                store = cls(path)
                if store.smiles != keys:
                    raise StoreError(f"{path} holds a store for different SMILES")
                return store
            raise StoreError(f"{path} exists and is not empty")
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
        tmp = path / ".index.parquet.tmp"
        index.to_parquet(tmp, index=False)
        os.replace(tmp, path / "index.parquet")
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created": _now(),
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
        _atomic_write_json(path / "manifest.json", manifest)  # written last: marks a store
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
                _atomic_write_json(self.path / "manifest.json", manifest)
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
        return self.path / "teachers" / name

    def _chunk_paths(self, name: str, chunk: int) -> tuple[Path, Path, Path]:
        base = self._teacher_dir(name) / "chunks" / f"c{chunk:06d}"
        return (
            base.with_name(base.name + ".npy"),
            base.with_name(base.name + ".mask.npy"),
            base.with_name(base.name + ".json"),
        )

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
        _atomic_save_npy(data_p, x)
        _atomic_save_npy(mask_p, mask)
        _atomic_write_json(meta_p, meta)

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
        n_covered = n_valid = n_failed = n_invalid = n_clipped = 0
        seconds = 0.0
        chunks_done = 0
        failures: list[dict[str, Any]] = []
        report: dict[str, Any] = {}
        for c in range(self.n_chunks):
            meta = self.chunk_meta(name, c)
            if meta is None:
                continue
            chunks_done += 1
            n_covered += meta["n_covered"]
            n_valid += meta["n_valid"]
            n_failed += meta["n_failed"]
            n_invalid += meta["n_invalid_smiles"]
            n_clipped += meta.get("n_clipped_float16", 0)
            seconds += meta["seconds"]
            for key, val in meta.get("teacher_report", {}).items():
                if isinstance(val, dict):
                    sub = report.setdefault(key, {})
                    for k2, v2 in val.items():
                        sub[k2] = sub.get(k2, 0) + v2
                else:
                    report[key] = report.get(key, 0) + val
            for f in meta["failures"]:
                if len(failures) < MAX_LISTED_FAILURES:
                    failures.append(f)
        n = len(self)
        return {
            "chunks_done": chunks_done,
            "n_covered": n_covered,
            "coverage": n_covered / n if n else 0.0,
            "n_valid": n_valid,
            "valid_fraction": n_valid / n if n else 0.0,
            "n_failed": n_failed,
            "n_invalid_smiles": n_invalid,
            "n_clipped_float16": n_clipped,
            "failures": failures,
            "teacher_report": report,
            "compute_seconds": round(seconds, 3),
            "mol_per_s_per_worker": round((n_covered - n_invalid) / seconds, 2)
            if seconds
            else None,
        }


# ----------------------------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------------------------


def _resolve_fitted_teacher(
    store: TeacherStore,
    teacher: Any,
    rec: dict[str, Any] | None,
    fit_n: int | None,
    limit: int,
) -> tuple[Any, float]:
    """Fit ``teacher`` (or reload the fitted copy of an interrupted build); returns seconds."""
    fitted_p = store._teacher_dir(teacher.name) / "fitted.pkl"
    if rec is not None and fitted_p.is_file():
        with open(fitted_p, "rb") as fh:
            fitted = pickle.load(fh)
        if config_hash(_teacher_config(fitted)) != rec["config_hash"]:
            raise StoreError(
                f"{fitted_p} does not reproduce the recorded config hash {rec['config_hash']}; "
                "rebuild with overwrite=True"
            )
        return fitted, 0.0
    fit_smiles = [s for s, ok in zip(store.smiles[:limit], store.valid[:limit]) if ok]
    if fit_n is not None:
        fit_smiles = fit_smiles[:fit_n]
    t0 = time.perf_counter()
    with rdkit_quiet():
        fitted = teacher.fit(fit_smiles) or teacher
    seconds = time.perf_counter() - t0
    fitted_p.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(fitted_p, pickle.dumps(fitted))
    return fitted, seconds


def _acquire_build_lock(store: TeacherStore, name: str) -> Any:
    """Exclusive per-teacher build lock (released by the OS if the process dies).

    Also removes temporary files a killed build left behind.
    """
    chunk_dir = store._teacher_dir(name) / "chunks"
    chunk_dir.mkdir(parents=True, exist_ok=True)
    fh = open(store._teacher_dir(name) / ".build.lock", "a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise StoreError(
            f"teacher {name!r} of {store.path} is being built by another process"
        ) from None
    for tmp in chunk_dir.glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)
    return fh


def build_teacher(
    store: TeacherStore,
    teacher: Any,
    n_jobs: int = 1,
    limit: int | None = None,
    executor: str = "process",
    client: Any = None,
    *,
    scheduler: str | None = None,
    fit_n: int | None = 5000,
    overwrite: bool = False,
    progress: bool = True,
    max_pool_restarts: int = 3,
) -> dict[str, Any]:
    """Compute the missing chunks of ``teacher`` and write them into ``store``.

    Parameters
    ----------
    store
        An open :class:`TeacherStore`.
    teacher
        A :class:`~molmtd.teachers.base.Teacher` (picklable).
    n_jobs
        Worker processes for ``executor="process"`` (1 runs in this process).
    limit
        Only rows ``< limit`` are computed (e.g. slow 3D teachers on a corpus prefix); the rest
        are masked False and ``coverage`` reports the fraction computed.
    executor
        ``"process"`` (local pool) or ``"dask"`` (``client`` or ``scheduler`` address needed).
    client, scheduler
        A ``distributed.Client``, or the address of a Dask scheduler to connect to.
    fit_n
        ``requires_fit`` teachers are fitted on the first ``fit_n`` valid SMILES of the store
        within ``limit`` (None: all) before embedding; the fitted teacher is saved, so a resumed build reuses
        identical statistics.
    overwrite
        Delete what the store holds for this teacher name first. Without it, a teacher whose
        configuration hash differs from the stored one raises :class:`ConfigMismatchError`.
    progress
        Show a tqdm progress bar (molecules) for this teacher.

    Returns
    -------
    dict
        The teacher's manifest record after the build.
    """
    from tqdm.auto import tqdm

    if executor not in ("process", "dask"):
        raise ValueError("executor must be 'process' or 'dask'")
    name = teacher.name
    store.refresh()
    init_hash = config_hash(_teacher_config(teacher))
    rec = store._manifest["teachers"].get(name)
    if rec is not None and overwrite:
        store.remove_teacher(name)
        rec = None
    if rec is not None and rec["init_config_hash"] != init_hash:
        raise ConfigMismatchError(
            f"store {store.path} already holds teacher {name!r} with config hash "
            f"{rec['init_config_hash']} (config {stable_json(rec['init_config'])}); this "
            f"teacher has {init_hash} (config {stable_json(_teacher_config(teacher))}). "
            "Refusing to mix configurations: use overwrite=True (CLI: --overwrite) to replace "
            "it, or give the teacher another name."
        )
    n = len(store)
    eff_limit = n if limit is None else max(0, min(int(limit), n))
    init_config = _teacher_config(teacher)
    fit_seconds = float(rec.get("fit_seconds", 0.0)) if rec else 0.0
    lock = _acquire_build_lock(store, name)
    try:
        if getattr(teacher, "requires_fit", False):
            teacher, fs = _resolve_fitted_teacher(store, teacher, rec, fit_n, eff_limit)
            fit_seconds += fs
        config = _teacher_config(teacher)
        chash = config_hash(config)
        if rec is not None and rec["config_hash"] != chash:
            raise ConfigMismatchError(
                f"teacher {name!r}: fitted config hash {chash} differs from stored "
                f"{rec['config_hash']}; use overwrite=True"
            )
    except BaseException:
        lock.close()
        raise
    dim = int(teacher.dim)
    dtype = store.dtype
    with store._locked_manifest() as manifest:
        old = manifest["teachers"].get(name, {})
        manifest["teachers"][name] = {
            **old,
            "name": name,
            "family": _teacher_family(name),
            "class": f"{type(teacher).__module__}.{type(teacher).__qualname__}",
            "dim": dim,
            "dtype": dtype,
            "config_hash": chash,
            "config": config,
            "init_config_hash": init_hash,
            "init_config": init_config,
            "requires_fit": bool(getattr(teacher, "requires_fit", False)),
            "fit_n": fit_n if getattr(teacher, "requires_fit", False) else None,
            "fit_seconds": round(fit_seconds, 3),
            "limit": None if limit is None else int(limit),
            "status": "building",
            "packages": package_versions(),
            "builds": old.get("builds", []),
        }

    valid = store.valid
    smiles = store.smiles
    # chunks to compute: those overlapping [0, eff_limit) whose commit record covers less
    tasks: dict[int, tuple[int, list[int]]] = {}
    for c in range(store.n_chunks):
        start, stop = store.chunk_rows(c)
        need = max(0, min(stop, eff_limit) - start)
        if need == 0:
            continue
        meta = store.chunk_meta(name, c)
        if meta is not None and meta["n_covered"] >= need and meta["config_hash"] == chash:
            continue
        positions = [i for i in range(need) if valid[start + i]]
        tasks[c] = (need, positions)

    total_rows = sum(need for need, _ in tasks.values())
    t_start = time.perf_counter()
    bar = tqdm(
        total=total_rows,
        desc=name,
        unit="mol",
        disable=not progress,
        dynamic_ncols=True,
        leave=True,
    )
    clipped_total = 0
    n_committed = 0
    systemic: dict[int, str] = {}

    def commit(c: int, result: dict[str, Any] | None) -> None:
        nonlocal clipped_total, n_committed
        if result is not None and result.get("systemic"):
            systemic[c] = next(iter(result["errors"].values()))
            log.error("teacher %s failed on every molecule of chunk %d: %s", name, c, systemic[c])
            if len(systemic) >= 3 and n_committed == 0:
                raise StoreError(
                    f"teacher {name!r} fails on every molecule ({len(systemic)} chunks): "
                    f"{systemic[c]}"
                )
            return
        start, stop = store.chunk_rows(c)
        need, positions = tasks[c]
        x = np.full((stop - start, dim), np.nan, dtype=np.float32)
        mask = np.zeros(stop - start, dtype=bool)
        failures = []
        seconds = 0.0
        if result is not None:
            x[positions] = result["x"]
            mask[positions] = result["mask"]
            seconds = result["seconds"]
            default = "teacher returned mask=False"
            counts = {
                k: v
                for k, v in result.get("teacher_report", {}).items()
                if k.startswith("n_")
                and k not in ("n_valid", "n_invalid_smiles")
                and not k.startswith("n_mmff")
                and isinstance(v, int | float)
                and v
            }
            if counts:
                default += " (chunk report: " + ", ".join(f"{k}={v}" for k, v in counts.items())
                default += ")"
            for j, pos in enumerate(positions):
                if not result["mask"][j]:
                    err = result["errors"].get(j, default)
                    failures.append(
                        {"row": start + pos, "smiles": smiles[start + pos], "error": err}
                    )
        n_clipped = 0
        if dtype == "float16":
            finite = np.isfinite(x)
            over = finite & (np.abs(x) > _FLOAT16_MAX)
            n_clipped = int(over.sum())
            if n_clipped:
                x = np.where(over, np.sign(x) * _FLOAT16_MAX, x)
            x = x.astype(np.float16)
            clipped_total += n_clipped
        meta = {
            "chunk": c,
            "start": start,
            "stop": stop,
            "n_covered": need,
            "n_valid": int(mask.sum()),
            "n_failed": len(failures),
            "n_invalid_smiles": int(need - len(positions)),
            "n_clipped_float16": n_clipped,
            "failures": failures,
            "batch_error": None if result is None else result["batch_error"],
            "teacher_report": {} if result is None else result.get("teacher_report", {}),
            "seconds": round(seconds, 4),
            "config_hash": chash,
            "written": _now(),
        }
        store._write_chunk(name, c, x, mask, meta)
        n_committed += 1
        bar.update(need)

    status = "interrupted"
    try:
        # chunks with nothing valid to embed are committed directly
        for c in [c for c, (_, pos) in tasks.items() if not pos]:
            commit(c, None)
        todo = [c for c, (_, pos) in tasks.items() if pos]
        payload = {c: [smiles[store.chunk_rows(c)[0] + p] for p in tasks[c][1]] for c in todo}
        if not todo:
            pass
        elif executor == "dask":
            _run_dask(teacher, todo, payload, commit, client, scheduler)
        elif n_jobs <= 1:
            for c in todo:
                commit(c, embed_chunk(teacher, payload[c]))
        else:
            _run_pool(teacher, todo, payload, commit, n_jobs, max_pool_restarts)
        status = "failed" if systemic else "complete"
    finally:
        bar.close()
        lock.close()  # releases the flock
        wall = time.perf_counter() - t_start
        summary = store.summarize_teacher(name)
        with store._locked_manifest() as manifest:
            r = manifest["teachers"][name]
            r.update(summary)
            r["status"] = (
                status if status != "complete" or summary["n_covered"] >= eff_limit else "partial"
            )
            if systemic:
                r["systemic_errors"] = {str(k): v for k, v in sorted(systemic.items())}
            else:
                r.pop("systemic_errors", None)
            r["builds"] = [
                *r.get("builds", []),
                {
                    "finished": _now(),
                    "status": status,
                    "executor": executor,
                    "n_jobs": n_jobs,
                    "chunks_computed": n_committed,
                    "chunks_failed": len(systemic),
                    "rows_computed": total_rows,
                    "wall_seconds": round(wall, 3),
                    "mol_per_s": round(total_rows / wall, 2) if wall > 0 and total_rows else None,
                },
            ]
        if clipped_total:
            log.warning("teacher %s: %d values clipped to float16 range", name, clipped_total)
    if systemic:
        first = min(systemic)
        raise StoreError(
            f"teacher {name!r}: every molecule raised in {len(systemic)} chunks (not written; "
            f"rerun to retry them), e.g. chunk {first}: {systemic[first]}"
        )
    return store.manifest["teachers"][name]


def _run_pool(
    teacher: Any,
    todo: list[int],
    payload: dict[int, list[str]],
    commit: Any,
    n_jobs: int,
    max_restarts: int,
) -> None:
    import multiprocessing as mp

    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "forkserver":
        # Takes effect when the fork server starts (first pool of this process): workers are
        # then forked with numpy/RDKit/the teacher's module already imported.
        ctx.set_forkserver_preload(
            ["molmtd.store.teacher_store", "rdkit.Chem", type(teacher).__module__]
        )
    teacher_bytes = pickle.dumps(teacher)
    pending = list(todo)
    restarts = 0
    window = 2 * n_jobs
    while pending:
        pool = ProcessPoolExecutor(
            max_workers=n_jobs, mp_context=ctx, initializer=_worker_init, initargs=(teacher_bytes,)
        )
        in_flight: dict[Any, int] = {}
        queue = list(pending)
        try:
            while queue or in_flight:
                while queue and len(in_flight) < window:
                    c = queue.pop(0)
                    in_flight[pool.submit(_embed_chunk_pool, c, payload[c])] = c
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    c = in_flight.pop(fut)
                    _, result = fut.result()
                    commit(c, result)
                    pending.remove(c)
        except BrokenProcessPool:
            restarts += 1
            log.error(
                "worker process died (crash or out of memory) on teacher %s; %d chunks "
                "pending; restart %d/%d\n%s",
                teacher.name,
                len(pending),
                restarts,
                max_restarts,
                traceback.format_exc(),
            )
            if restarts > max_restarts:
                raise StoreError(
                    f"teacher {teacher.name}: worker processes died {restarts} times; the "
                    f"{len(todo) - len(pending)} finished chunks are saved, rerun to resume"
                ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(
    teacher: Any,
    todo: list[int],
    payload: dict[int, list[str]],
    commit: Any,
    client: Any,
    scheduler: str | None,
) -> None:
    from distributed import Client, as_completed

    own = None
    if client is None:
        if scheduler is None:
            raise ValueError("executor='dask' needs a distributed.Client or a scheduler address")
        client = own = Client(scheduler)
    try:
        n_threads = max(1, sum(client.nthreads().values()))
        window = 2 * n_threads
        [t_future] = client.scatter([teacher], broadcast=True, hash=False)
        queue = list(todo)
        token = f"{teacher.name}-{os.getpid()}-{time.time_ns()}"

        def submit(c: int) -> Any:
            return client.submit(
                _embed_chunk_dask, t_future, c, payload[c], key=f"embed-{token}-{c}", pure=False
            )

        first = [submit(queue.pop(0)) for _ in range(min(window, len(queue)))]
        ac = as_completed(first)
        for fut in ac:
            c, result = fut.result()
            commit(c, result)
            fut.release()
            if queue:
                ac.add(submit(queue.pop(0)))
    finally:
        if own is not None:
            own.close()


def build_store(
    path: str | os.PathLike,
    smiles: Sequence[str],
    teachers: Sequence[Any],
    *,
    limits: dict[str, int] | None = None,
    dtype: str = "float32",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    metadata: dict[str, Any] | None = None,
    **build_kwargs: Any,
) -> TeacherStore:
    """Create (or resume) a store at ``path`` and build every teacher in turn."""
    store = TeacherStore.create(
        path, smiles, dtype=dtype, chunk_size=chunk_size, metadata=metadata, exist_ok=True
    )
    for teacher in teachers:
        build_teacher(store, teacher, limit=(limits or {}).get(teacher.name), **build_kwargs)
    return store


def format_report(store: TeacherStore) -> str:
    """A human-readable build report (markdown table) of a store."""
    m = store.manifest
    lines = [
        f"store {store.path}: {m['n']} molecules ({m['n_invalid']} invalid SMILES, "
        f"{m['n_duplicate']} duplicates), dtype {m['dtype']}, chunk {m['chunk_size']}",
        "",
        "| teacher | family | dim | status | coverage | valid | failed | mol/s (build) | config |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in m["teachers"].items():
        builds = r.get("builds", [])
        rate = builds[-1].get("mol_per_s") if builds else None
        lines.append(
            f"| {name} | {r.get('family')} | {r['dim']} | {r.get('status')} | "
            f"{r.get('coverage', 0):.3f} | {r.get('n_valid', 0)} | {r.get('n_failed', 0)} | "
            f"{rate if rate is not None else '-'} | {r['config_hash']} |"
        )
    for name, r in m["teachers"].items():
        for f in r.get("failures", [])[:5]:
            lines.append(f"  {name} failed row {f['row']} {f['smiles']}: {f['error']}")
        extra = r.get("n_failed", 0) - min(5, len(r.get("failures", [])))
        if extra > 0:
            lines.append(f"  {name}: {extra} more failures listed in manifest.json")
    return "\n".join(lines)
