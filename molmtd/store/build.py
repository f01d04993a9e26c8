"""Filling a store: plan the missing chunks, run them, commit each one, record the build.

Role: :func:`build_teacher` (one teacher) and :func:`build_store` (create or resume a store,
then every teacher). A build is kill-safe and resumable: it takes a per-teacher lock,
computes only the chunks without a commit record for the teacher's config hash, commits each
chunk atomically as it arrives (:meth:`TeacherStore._write_chunk`), and re-aggregates the
teacher's counts from the committed chunks at the end, also when interrupted. Fitted teachers
are saved before any embedding, so a resumed build reuses identical statistics.
Imports: every other module of :mod:`molmtd.store`; this is the top of the package.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from molmtd.store.executors import run_dask, run_pool
from molmtd.store.format import (
    DEFAULT_CHUNK_SIZE,
    ConfigMismatchError,
    StoreError,
    now,
    package_versions,
    teacher_config,
    to_storage_dtype,
)
from molmtd.store.teacher_store import TeacherStore
from molmtd.store.worker import embed_chunk
from molmtd.utils import atomic_write_bytes, config_hash, rdkit_quiet, stable_json

log = logging.getLogger(__name__)

#: chunk -> (rows to cover, positions of the valid SMILES among them)
Tasks = dict[int, tuple[int, list[int]]]


def _teacher_family(name: str) -> str | None:
    try:
        from molmtd.teachers.base import teacher_family

        return teacher_family(name)
    except Exception:  # registry import problems must not break a build
        return None


def _existing_record(store: TeacherStore, teacher: Any, overwrite: bool) -> dict[str, Any] | None:
    """The stored record of ``teacher.name`` (None when absent or overwritten).

    Raises :class:`ConfigMismatchError` when it was built with another configuration.
    """
    name = teacher.name
    init_hash = config_hash(teacher_config(teacher))
    rec = store._manifest["teachers"].get(name)
    if rec is not None and overwrite:
        store.remove_teacher(name)
        rec = None
    if rec is not None and rec["init_config_hash"] != init_hash:
        raise ConfigMismatchError(
            f"store {store.path} already holds teacher {name!r} with config hash "
            f"{rec['init_config_hash']} (config {stable_json(rec['init_config'])}); this "
            f"teacher has {init_hash} (config {stable_json(teacher_config(teacher))}). "
            "Refusing to mix configurations: use overwrite=True (CLI: --overwrite) to replace "
            "it, or give the teacher another name."
        )
    return rec


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
        if config_hash(teacher_config(fitted)) != rec["config_hash"]:
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
    atomic_write_bytes(fitted_p, pickle.dumps(fitted))
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


def _plan(store: TeacherStore, name: str, limit: int, chash: str) -> Tasks:
    """The chunks overlapping ``[0, limit)`` whose commit record covers less (or is stale)."""
    valid = store.valid
    tasks: Tasks = {}
    for c in range(store.n_chunks):
        start, stop = store.chunk_rows(c)
        need = max(0, min(stop, limit) - start)
        if need == 0:
            continue
        meta = store.chunk_meta(name, c)
        if meta is not None and meta["n_covered"] >= need and meta["config_hash"] == chash:
            continue
        tasks[c] = (need, [i for i in range(need) if valid[start + i]])
    return tasks


def _default_failure(result: dict[str, Any]) -> str:
    """Why a masked row failed when the teacher gave no reason: with the chunk's counts."""
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
        default += " (chunk report: " + ", ".join(f"{k}={v}" for k, v in counts.items()) + ")"
    return default


class _ChunkWriter:
    """``commit(chunk, result)`` of a build: writes a worker result as a committed chunk.

    A chunk on which every molecule raised the same error is not written (the teacher is
    broken, not the molecules): it is kept in :attr:`systemic`, and the build stops at once
    when the first three chunks all fail that way.
    """

    def __init__(
        self, store: TeacherStore, name: str, dim: int, chash: str, tasks: Tasks, bar: Any
    ) -> None:
        self.store, self.name, self.dim, self.chash = store, name, dim, chash
        self.tasks = tasks
        self.bar = bar
        self.smiles = store.smiles
        self.dtype = store.dtype
        self.clipped_total = 0
        self.n_committed = 0
        self.systemic: dict[int, str] = {}

    def __call__(self, c: int, result: dict[str, Any] | None) -> None:
        if result is not None and result.get("systemic"):
            self.systemic[c] = next(iter(result["errors"].values()))
            log.error(
                "teacher %s failed on every molecule of chunk %d: %s",
                self.name,
                c,
                self.systemic[c],
            )
            if len(self.systemic) >= 3 and self.n_committed == 0:
                raise StoreError(
                    f"teacher {self.name!r} fails on every molecule ({len(self.systemic)} "
                    f"chunks): {self.systemic[c]}"
                )
            return
        start, stop = self.store.chunk_rows(c)
        need, positions = self.tasks[c]
        x = np.full((stop - start, self.dim), np.nan, dtype=np.float32)
        mask = np.zeros(stop - start, dtype=bool)
        failures = []
        seconds = 0.0
        if result is not None:
            x[positions] = result["x"]
            mask[positions] = result["mask"]
            seconds = result["seconds"]
            default = _default_failure(result)
            for j, pos in enumerate(positions):
                if not result["mask"][j]:
                    err = result["errors"].get(j, default)
                    failures.append(
                        {"row": start + pos, "smiles": self.smiles[start + pos], "error": err}
                    )
        x, n_clipped = to_storage_dtype(x, self.dtype)
        self.clipped_total += n_clipped
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
            "config_hash": self.chash,
            "written": now(),
        }
        self.store._write_chunk(self.name, c, x, mask, meta)
        self.n_committed += 1
        self.bar.update(need)


def _finish_record(
    store: TeacherStore,
    name: str,
    status: str,
    limit: int,
    systemic: dict[int, str],
    build: dict[str, Any],
) -> None:
    """Re-aggregate the teacher's counts from its chunks and append this build's entry."""
    summary = store.summarize_teacher(name)
    with store._locked_manifest() as manifest:
        r = manifest["teachers"][name]
        r.update(summary)
        r["status"] = status if status != "complete" or summary["n_covered"] >= limit else "partial"
        if systemic:
            r["systemic_errors"] = {str(k): v for k, v in sorted(systemic.items())}
        else:
            r.pop("systemic_errors", None)
        r["builds"] = [*r.get("builds", []), build]


def _fit_under_lock(
    store: TeacherStore,
    teacher: Any,
    rec: dict[str, Any] | None,
    fit_n: int | None,
    limit: int,
    lock: Any,
) -> tuple[Any, float, dict[str, Any], str]:
    """Fit ``teacher`` if it needs it and check its config hash against ``rec``.

    Returns the (fitted) teacher, the fit seconds of this call, its config and config hash.
    On any error the build lock is released before the error propagates.
    """
    name = teacher.name
    try:
        fit_seconds = 0.0
        if getattr(teacher, "requires_fit", False):
            teacher, fit_seconds = _resolve_fitted_teacher(store, teacher, rec, fit_n, limit)
        config = teacher_config(teacher)
        chash = config_hash(config)
        if rec is not None and rec["config_hash"] != chash:
            raise ConfigMismatchError(
                f"teacher {name!r}: fitted config hash {chash} differs from stored "
                f"{rec['config_hash']}; use overwrite=True"
            )
    except BaseException:
        lock.close()
        raise
    return teacher, fit_seconds, config, chash


def _start_record(
    store: TeacherStore,
    name: str,
    teacher: Any,
    configs: tuple[dict[str, Any], dict[str, Any]],
    *,
    fit_n: int | None,
    fit_seconds: float,
    limit: int | None,
) -> None:
    """Write the teacher's manifest record with status ``building``.

    ``configs`` is the teacher's configuration before fitting and after it.
    """
    init_config, config = configs
    requires_fit = bool(getattr(teacher, "requires_fit", False))
    with store._locked_manifest() as manifest:
        old = manifest["teachers"].get(name, {})
        manifest["teachers"][name] = {
            **old,
            "name": name,
            "family": _teacher_family(name),
            "class": f"{type(teacher).__module__}.{type(teacher).__qualname__}",
            "dim": int(teacher.dim),
            "dtype": store.dtype,
            "config_hash": config_hash(config),
            "config": config,
            "init_config_hash": config_hash(init_config),
            "init_config": init_config,
            "requires_fit": requires_fit,
            "fit_n": fit_n if requires_fit else None,
            "fit_seconds": round(fit_seconds, 3),
            "limit": None if limit is None else int(limit),
            "status": "building",
            "packages": package_versions(),
            "builds": old.get("builds", []),
        }


def _begin_build(
    store: TeacherStore, teacher: Any, limit: int | None, fit_n: int | None, overwrite: bool
) -> tuple[Any, str, int, Any]:
    """Lock the teacher's build, fit the teacher if it needs it, record it as ``building``.

    Returns
    -------
    tuple
        The (fitted) teacher, its config hash, the rows to cover (``limit`` within the store)
        and the build lock, which the caller must close.
    """
    name = teacher.name
    store.refresh()
    rec = _existing_record(store, teacher, overwrite)
    n = len(store)
    eff_limit = n if limit is None else max(0, min(int(limit), n))
    init_config = teacher_config(teacher)
    fit_seconds = float(rec.get("fit_seconds", 0.0)) if rec else 0.0
    lock = _acquire_build_lock(store, name)
    teacher, seconds, config, chash = _fit_under_lock(store, teacher, rec, fit_n, eff_limit, lock)
    _start_record(
        store,
        name,
        teacher,
        (init_config, config),
        fit_n=fit_n,
        fit_seconds=fit_seconds + seconds,
        limit=limit,
    )
    return teacher, chash, eff_limit, lock


@dataclass(frozen=True)
class _Runner:
    """Where the chunks of a build are embedded: the executor arguments of build_teacher."""

    executor: str
    n_jobs: int
    client: Any
    scheduler: str | None
    max_pool_restarts: int

    def run(self, store: TeacherStore, teacher: Any, tasks: Tasks, commit: _ChunkWriter) -> None:
        """Embed and commit every planned chunk: here, in a process pool or on Dask."""
        # chunks with nothing valid to embed are committed directly
        for c in [c for c, (_, pos) in tasks.items() if not pos]:
            commit(c, None)
        todo = [c for c, (_, pos) in tasks.items() if pos]
        smiles = store.smiles
        payload = {c: [smiles[store.chunk_rows(c)[0] + p] for p in tasks[c][1]] for c in todo}
        if not todo:
            pass
        elif self.executor == "dask":
            run_dask(teacher, todo, payload, commit, self.client, self.scheduler)
        elif self.n_jobs <= 1:
            for c in todo:
                commit(c, embed_chunk(teacher, payload[c]))
        else:
            run_pool(teacher, todo, payload, commit, self.n_jobs, self.max_pool_restarts)

    def build_entry(
        self, status: str, commit: _ChunkWriter, rows: int, wall: float
    ) -> dict[str, Any]:
        """The entry of this build in the teacher's ``builds`` list."""
        return {
            "finished": now(),
            "status": status,
            "executor": self.executor,
            "n_jobs": self.n_jobs,
            "chunks_computed": commit.n_committed,
            "chunks_failed": len(commit.systemic),
            "rows_computed": rows,
            "wall_seconds": round(wall, 3),
            "mol_per_s": round(rows / wall, 2) if wall > 0 and rows else None,
        }


def _run_build(
    store: TeacherStore,
    name: str,
    teacher: Any,
    chash: str,
    limit: int,
    lock: Any,
    runner: _Runner,
    progress: bool,
) -> _ChunkWriter:
    """Compute and commit the missing chunks below ``limit``; record the build in any case.

    The build lock is released and the teacher's record re-aggregated also when the build
    fails or is interrupted. Returns the chunk writer (its counts and systemic failures).
    """
    from molmtd.utils import progress_bar as tqdm

    tasks = _plan(store, name, limit, chash)
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
    commit = _ChunkWriter(store, name, int(teacher.dim), chash, tasks, bar)
    status = "interrupted"
    try:
        runner.run(store, teacher, tasks, commit)
        status = "failed" if commit.systemic else "complete"
    finally:
        bar.close()
        lock.close()  # releases the flock
        wall = time.perf_counter() - t_start
        build = runner.build_entry(status, commit, total_rows, wall)
        _finish_record(store, name, status, limit, commit.systemic, build)
        if commit.clipped_total:
            log.warning(
                "teacher %s: %d values clipped to float16 range", name, commit.clipped_total
            )
    return commit


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
        within ``limit`` (None: all) before embedding; the fitted teacher is saved, so a
        resumed build reuses identical statistics.
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
    if executor not in ("process", "dask"):
        raise ValueError("executor must be 'process' or 'dask'")
    name = teacher.name
    runner = _Runner(executor, n_jobs, client, scheduler, max_pool_restarts)
    teacher, chash, eff_limit, lock = _begin_build(store, teacher, limit, fit_n, overwrite)
    commit = _run_build(store, name, teacher, chash, eff_limit, lock, runner, progress)
    if commit.systemic:
        first = min(commit.systemic)
        raise StoreError(
            f"teacher {name!r}: every molecule raised in {len(commit.systemic)} chunks (not "
            f"written; rerun to retry them), e.g. chunk {first}: {commit.systemic[first]}"
        )
    return store.manifest["teachers"][name]


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
