"""3D teachers on the TDC ADMET group, sharing one conformer per molecule across teachers.

``molmtd benchmark`` embeds task by task and teacher by teacher; with the default conformer
cache (2,048 molecules) every 3D teacher would generate its own conformers for the larger
tasks. This wrapper enlarges the process-wide cache first, so conformers are generated once
per molecule and reused by usrcat, rdkit3d, ANI and E3FP. Any other ``molmtd benchmark``
option passes through::

    python benchmarks/suites/tdc_3d_teachers.py --reps usrcat,rdkit3d,ani2x,ani \\
        --tasks caco2_wang,hia_hou --out runs/bench3d

``--embed-timeout S`` limits each ETKDG attempt to S seconds (RDKit's
``EmbedParameters.timeout``): a molecule that runs past it is masked (``conformer_failed``)
instead of stalling the run. The limit enters the 3D teachers' configs, so their embeddings
are cached apart from those computed without one; the count of timed-out molecules is
printed at the end.

``--conformer-jobs N`` first generates the conformers of every molecule of the chosen tasks
in N processes (:func:`~molmtd.teachers.conformers.prefetch_conformers`); the teachers then
read them from the cache. The geometries are those of a serial run, so cached embeddings and
config hashes are unchanged.
"""

from __future__ import annotations

import argparse
import sys

from molmtd.cli import main
from molmtd.data.datasets import load_task, suite_tasks
from molmtd.teachers.base import get_teacher
from molmtd.teachers.conformers import (
    conformer_stats,
    prefetch_conformers,
    set_conformer_cache_size,
    set_default_embed_timeout,
)


def prefetch(tasks: list[str], data_dir: str | None, n_jobs: int) -> None:
    """Conformers of every molecule of ``tasks``, in ``n_jobs`` processes, into the cache."""
    smiles: list[str] = []
    for name in tasks:
        smiles.extend(load_task("tdc-admet", name, data_dir).smiles)
    p = get_teacher("usrcat").conformer_params  # the parameters every 3D teacher shares
    n = prefetch_conformers(
        smiles, n_jobs=n_jobs, seed=p["seed"], mmff=p["mmff"],
        mmff_max_iters=p["mmff_max_iters"], embed_timeout=p.get("embed_timeout", 0),
    )  # fmt: skip
    print(f"[conformers] prefetched {n} in {n_jobs} processes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--embed-timeout", type=int, default=0)
    parser.add_argument("--conformer-jobs", type=int, default=1)
    parser.add_argument("--tasks", default=None)
    parser.add_argument("--data-dir", default=None)
    args, rest = parser.parse_known_args(sys.argv[1:])
    set_conformer_cache_size(40_000)
    set_default_embed_timeout(args.embed_timeout)
    tasks = args.tasks.split(",") if args.tasks else suite_tasks("tdc-admet")
    if args.conformer_jobs > 1:
        prefetch(tasks, args.data_dir, args.conformer_jobs)
    for flag, value in (("--tasks", args.tasks), ("--data-dir", args.data_dir)):
        if value is not None:
            rest += [flag, value]
    rc = main(["benchmark", "--suite", "tdc-admet", "--head", "mlp", *rest])
    stats = conformer_stats()
    print(
        f"[conformers] generated {stats['generated']}, failed {stats['failed']} "
        f"(timed out {stats['timed_out']}, limit {args.embed_timeout or 'none'} s)"
    )
    raise SystemExit(rc)
