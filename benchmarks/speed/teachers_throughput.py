"""Teacher throughput: mol/s per registered teacher with 1 and 2 worker processes.

For each teacher, ``--n`` MOSES molecules (seeded subset, see ``molmtd.data.corpus``) are
embedded into a fresh :class:`~molmtd.store.TeacherStore` twice: with ``n_jobs=1`` (in
process) and with ``n_jobs=2`` (process pool, worker start-up included). Reported:

- ``init_s``: the teacher's first call on 2 molecules (lazy model loading), excluded from
  the ``n_jobs=1`` rates (the ``n_jobs=2`` workers each pay it again, inside their rate;
  not measured for ``requires_fit`` teachers, whose fit loads what they need);

The benchmark process uses one torch/OpenMP thread, like each pool worker, so ``speedup``
compares one core with two.
- ``compute_mol_s``: molecules per second of teacher compute in one process (sum of the
  chunk timings of the ``n_jobs=1`` build);
- ``build_mol_s_j1`` / ``build_mol_s_j2``: wall-clock store build rate (compute, writing,
  and for j2 the start of the worker processes; the fork server itself is started once before
  the measurements), and ``speedup`` = j2 / j1;
- ``fit_s``: fitting time of ``requires_fit`` teachers (on ``min(n, 5000)`` molecules);
- ``mb_per_1k``: store size per 1,000 molecules (float32);
- ``read_rows_s``: random batch reads (256 rows) from the memory-mapped store.

The shared conformer cache of the 3D teachers is cleared before each measurement. Results
replace the rows of the same teachers in ``benchmarks/results/speed/teachers_throughput.csv``; a
markdown table is printed. The machine's load average is recorded: on a shared machine the
numbers are lower bounds.

Usage::

    python benchmarks/speed/teachers_throughput.py --n 1000 --teachers morgan,maccs
    python benchmarks/speed/teachers_throughput.py --n 200 --teachers ani,usrcat --chunk-size 25
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from molmtd.data.corpus import load_corpus
from molmtd.store import TeacherStore, build_teacher
from molmtd.teachers.base import get_teacher, list_teachers

RESULTS = Path(__file__).resolve().parents[1] / "results" / "speed" / "teachers_throughput.csv"


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _clear_conformer_cache() -> None:
    try:
        from molmtd.teachers.conformers import clear_conformer_cache
    except ImportError:
        return
    clear_conformer_cache()


def bench_teacher(name: str, smiles: list[str], chunk_size: int, tmp: Path) -> dict:
    row: dict = {"teacher": name, "family": list_teachers()[name], "n": len(smiles)}
    rates = {}
    for n_jobs in (1, 2):
        _clear_conformer_cache()  # 3D teachers share an in-process conformer cache
        teacher = get_teacher(name)
        row["dim"] = teacher.dim
        if n_jobs == 1 and not getattr(teacher, "requires_fit", False):
            # first call: lazy model loading etc., measured apart from the throughput
            t0 = time.perf_counter()
            teacher.embed(smiles[-2:])
            row["init_s"] = time.perf_counter() - t0
            _clear_conformer_cache()
        path = tmp / f"{name}-j{n_jobs}"
        store = TeacherStore.create(path, smiles, chunk_size=chunk_size, canonicalize=False)
        t0 = time.perf_counter()
        rec = build_teacher(store, teacher, n_jobs=n_jobs, progress=True)
        wall = time.perf_counter() - t0 - rec.get("fit_seconds", 0.0)
        rates[n_jobs] = len(smiles) / wall
        if n_jobs == 1:
            row["fit_s"] = rec.get("fit_seconds", 0.0) if rec["requires_fit"] else None
            row["compute_mol_s"] = rec["mol_per_s_per_worker"]
            row["n_valid"] = rec["n_valid"]
            row["mb_per_1k"] = dir_size(path / "teachers" / name) / 1e6 * 1000 / len(smiles)
            rng = np.random.default_rng(0)
            reader = TeacherStore.open(path)
            t1 = time.perf_counter()
            for _ in range(50):
                reader.read(name, rng.integers(0, len(smiles), 256))
            row["read_rows_s"] = 50 * 256 / (time.perf_counter() - t1)
        shutil.rmtree(path)
    row["build_mol_s_j1"] = rates[1]
    row["build_mol_s_j2"] = rates[2]
    row["speedup"] = rates[2] / rates[1]
    row["load_avg_1m"] = os.getloadavg()[0]
    row["cpus"] = os.cpu_count()
    row["date"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes")
    return row


def to_markdown(df: pd.DataFrame) -> str:
    cols = [
        "teacher", "family", "dim", "n", "init_s", "compute_mol_s", "build_mol_s_j1", "build_mol_s_j2",
        "speedup", "fit_s", "mb_per_1k", "read_rows_s", "load_avg_1m",
    ]  # fmt: skip
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df[cols].iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, float):
                cells.append("-" if np.isnan(v) else f"{v:.3g}" if v < 100 else f"{v:.0f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="MOSES molecules (default 1000)")
    parser.add_argument(
        "--teachers", default=None, help="comma-separated (default: every registered teacher)"
    )
    parser.add_argument("--exclude", default="hf_smiles", help="comma-separated to skip")
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    # one thread per process, as in the pool workers: j1 and j2 measure 1 vs 2 cores
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    names = args.teachers.split(",") if args.teachers else list(list_teachers())
    names = [t for t in names if t not in set(args.exclude.split(","))]
    smiles = list(load_corpus("moses", n=args.n, seed=0))
    rows = []
    with tempfile.TemporaryDirectory(prefix="molmtd-bench-") as tmp:
        # start the process pool machinery (fork server) once, outside the measurements
        warm = TeacherStore.create(Path(tmp) / "warm", smiles[:40], chunk_size=20)
        build_teacher(warm, get_teacher(names[0]), n_jobs=2, progress=False, limit=40)
        for name in names:
            try:
                rows.append(bench_teacher(name, smiles, args.chunk_size, Path(tmp)))
            except Exception as err:  # one unavailable teacher must not stop the benchmark
                print(f"{name}: skipped ({type(err).__name__}: {err})")
    if not rows:
        return 1
    new = pd.DataFrame(rows)
    if args.out.is_file():
        old = pd.read_csv(args.out)
        new = pd.concat([old[~old["teacher"].isin(new["teacher"])], new], ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new.to_csv(args.out, index=False, float_format="%.4g")
    print(to_markdown(new))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
