"""The process pool that embeds chunks of molecules on every core at once.

Data-parallel: each process parses, featurises and embeds whole chunks with one torch
thread, so the forward pass runs on every core without OpenMP threads (which stall when
oversubscribed). On Linux the pool forks, sharing the loaded weights; elsewhere each process
unpickles the runtime, which loads them again.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import torch

# The runtime and options of this pool process, set by the initialiser.
_PROCESS_WORK: tuple[Any, Any] | None = None


@contextlib.contextmanager
def embedded_in_pool(
    runtime: Any, options: Any, chunks: list[list[Any]], n_jobs: int
) -> Iterator[Iterator[Any]]:
    """``runtime.embed_chunk(chunk, options)`` of each chunk, in order, by ``n_jobs`` processes.

    ``runtime`` is a :class:`molmtd.student.runtime.StudentRuntime` whose weights are loaded
    and whose backend is prepared (ONNX exported, int8 quantised) before the pool starts, so
    that every process embeds alike. When the block exits early (an invalid molecule under
    ``on_error="raise"``), chunks not yet started are cancelled and the running ones (at most
    one per process) finish before the processes stop: terminating a process while it writes
    a result would leave the result queue's lock held and the pool hanging.
    """
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    executor = ProcessPoolExecutor(
        n_jobs, mp_context=ctx, initializer=_init_process, initargs=(runtime, options)
    )
    try:
        yield executor.map(_embed_in_process, chunks)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _init_process(runtime: Any, options: Any) -> None:
    """Pool initialiser: one torch thread, and this process's own ONNX Runtime session."""
    global _PROCESS_WORK
    torch.set_num_threads(1)
    runtime.__dict__.pop("_lazy_onnx", None)
    _PROCESS_WORK = (runtime, options)


def _embed_in_process(chunk: list[Any]) -> Any:
    """What each pool process does with one chunk: ``(rows, rejections)``."""
    assert _PROCESS_WORK is not None, "called outside a pool made by embedded_in_pool"
    runtime, options = _PROCESS_WORK
    return runtime.embed_chunk(chunk, options)  # featurise_chunk silences RDKit
