"""What a build's workers run: embed one chunk robustly and return arrays.

Role: the code that runs in pool processes or on Dask workers. It computes and returns;
it never touches the store (the driver process writes). The entry points are module-level
functions so that they pickle by reference. Imports: NumPy, :mod:`molmtd.utils` and
:mod:`molmtd.store.stats`; keep it light, the fork server preloads it.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from molmtd.store.stats import add_counts
from molmtd.utils import rdkit_quiet

_WORKER_TEACHER: Any = None


def worker_init(teacher_bytes: bytes) -> None:
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
        add_counts(into, report)
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
        :func:`~molmtd.store.build.build_teacher`).
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
                    error = _last_errors(teacher).get(0)
                    if not mi[0] and error is not None:
                        errors[i] = error
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


def embed_chunk_pool(task_id: int, smiles: Sequence[str]) -> tuple[int, dict[str, Any]]:
    """Process-pool task: embed with the teacher :func:`worker_init` unpickled."""
    return task_id, embed_chunk(_WORKER_TEACHER, smiles)


def embed_chunk_dask(teacher: Any, task_id: int, smiles: Sequence[str]) -> tuple[int, dict]:
    """Dask task: embed with the scattered teacher, one torch thread."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    return task_id, embed_chunk(teacher, smiles)
