"""``featurize_dask`` on a LocalCluster with 1 and then 2 worker processes: molecules per second.

    python benchmarks/speed/dask_scaling.py --n 1000 --rounds 2 [--model NAME]

Each worker is a process with one thread (and one torch thread). The clusters alternate
(1, 2, 1, 2, ... workers) so that load from other processes hits both alike; the weights are
loaded in every worker before timing. Appends to ``benchmarks/results/speed/dask_scaling.csv`` with
the CPU named and the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from molmtd.cpu import add_machine_columns, append_csv, cpu_summary
from molmtd.data.corpus import load_corpus
from molmtd.models import model_dir
from molmtd.tables.dask import featurize_dask


def one_run(frame: pd.DataFrame, workers: int, model: str, precision: str) -> float:
    """Seconds to embed ``frame`` on a fresh ``workers``-process LocalCluster (warmed up)."""
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, env=env) as cluster,
        Client(cluster),
    ):
        warm = dd.from_pandas(frame.head(8 * workers), npartitions=workers)
        featurize_dask(warm, model=model, precision=precision).compute()
        data = dd.from_pandas(frame, npartitions=4 * workers)
        start = time.perf_counter()
        out = featurize_dask(data, model=model, precision=precision).compute()
        seconds = time.perf_counter() - start
    assert len(out) == len(frame) and out["valid"].all()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default="default")
    parser.add_argument("--precision", default="float32")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/speed/dask_scaling.csv")
    )
    args = parser.parse_args()
    name = model_dir(args.model, verify=False).name
    frame = pd.DataFrame({"smiles": list(load_corpus("moses-test", n=args.n, seed=1))})
    times: dict[int, list[float]] = {1: [], 2: []}
    loads = []
    for _ in range(args.rounds):
        for workers in (1, 2):
            times[workers].append(one_run(frame, workers, name, args.precision))
            loads.append(os.getloadavg()[0])
            print(f"{workers} worker(s): {times[workers][-1]:.1f} s", flush=True)
    rows = [
        {
            "workers": w,
            "seconds_median": float(np.median(t)),
            "mol_per_s": args.n / float(np.median(t)),
            "speedup_vs_1_worker": float(np.median(np.array(times[1]) / np.array(t))),
        }
        for w, t in times.items()
    ]
    table = pd.DataFrame(rows)
    table["model"] = name
    table["precision"] = args.precision
    table["n"] = args.n
    table["rounds"] = args.rounds
    add_machine_columns(table, loads)
    print(f"CPU: {cpu_summary()}; {os.cpu_count()} logical CPUs")
    print(table[["workers", "mol_per_s", "speedup_vs_1_worker"]].to_markdown(index=False))
    append_csv(table, args.out)


if __name__ == "__main__":
    main()
