"""Where a build's chunks are computed: a local process pool or a Dask cluster.

Role: hand chunks to workers with a bounded window, pass each result to ``commit`` in the
driver as it arrives, and survive dead workers (a broken pool is restarted and the pending
chunks resubmitted). Both executors only compute; ``commit`` (from
:mod:`molmtd.store.build`) writes. Imports: :mod:`molmtd.store.worker` (the task functions)
and :mod:`molmtd.store.format` (errors); ``distributed`` lazily.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from molmtd.store.format import StoreError
from molmtd.store.worker import embed_chunk_dask, embed_chunk_pool, worker_init

log = logging.getLogger(__name__)

#: ``commit(chunk, result)``: called in the driver for every finished chunk.
Commit = Callable[[int, dict[str, Any]], None]


def run_pool(
    teacher: Any,
    todo: list[int],
    payload: dict[int, list[str]],
    commit: Commit,
    n_jobs: int,
    max_restarts: int,
) -> None:
    """Embed the chunks ``todo`` (SMILES in ``payload``) in ``n_jobs`` local processes."""
    import multiprocessing as mp

    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "forkserver":
        # Takes effect when the fork server starts (first pool of this process): workers are
        # then forked with numpy/RDKit/the teacher's module already imported.
        ctx.set_forkserver_preload(["molmtd.store.worker", "rdkit.Chem", type(teacher).__module__])
    teacher_bytes = pickle.dumps(teacher)
    pending = list(todo)
    restarts = 0
    window = 2 * n_jobs
    while pending:
        pool = ProcessPoolExecutor(
            max_workers=n_jobs, mp_context=ctx, initializer=worker_init, initargs=(teacher_bytes,)
        )
        in_flight: dict[Any, int] = {}
        queue = list(pending)
        try:
            while queue or in_flight:
                while queue and len(in_flight) < window:
                    c = queue.pop(0)
                    in_flight[pool.submit(embed_chunk_pool, c, payload[c])] = c
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


def run_dask(
    teacher: Any,
    todo: list[int],
    payload: dict[int, list[str]],
    commit: Commit,
    client: Any,
    scheduler: str | None,
) -> None:
    """Embed the chunks ``todo`` on a Dask cluster (``client``, or one made for ``scheduler``)."""
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
                embed_chunk_dask, t_future, c, payload[c], key=f"embed-{token}-{c}", pure=False
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
