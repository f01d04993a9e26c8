"""Training and inference throughput of the default GINE student on this machine (CPU).

Measures, for the backbone of ``molmtd/configs/default.yaml``:

- training mol/s: DataLoader (SMILES featurisation + target reads) + forward + NLL loss with
  the default Gaussian-kernel heads + backward + AdamW step, first epoch (no graph cache
  hits), steady state (the first logging interval is discarded);
- inference mol/s: SMILES -> embedding with :func:`molmtd.training.embed` (featurisation
  included), eval mode, batch 256;
- DDP training mol/s with ``torchrun --nproc_per_node 2`` (gloo, one thread per rank).

Teachers are real (RDKit MACCS keys and Morgan bits, radius 2, 1024) on ZINC250k molecules
(``../shared/data/corpora/zinc250k.smi.gz``; RDKit's NCI sample if absent). The 1-minute
load average is recorded with every row: other processes share the cores.

    .venv/bin/python benchmarks/speed/train_throughput.py [--steps 30] [--n-infer 4096]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "speed" / "train_throughput.csv"
FIELDS = [
    "timestamp",
    "benchmark",
    "world_size",
    "torch_threads",
    "loader_workers",
    "batch_size",
    "n_molecules",
    "mol_per_s",
    "load_avg_1m_before",
    "load_avg_1m_after",
    "n_params",
    "notes",
]


def corpus(n: int) -> list[str]:
    from molmtd.data.paths import package_file, shared_data_dir

    data = shared_data_dir()
    path = None if data is None else data / "corpora" / "zinc250k.smi.gz"
    if path is not None and path.is_file():
        with gzip.open(path, "rt") as fh:
            out = []
            for line in fh:
                if line.strip():
                    out.append(line.split()[0])
                if len(out) == n:
                    return out
            return out
    lines = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().splitlines()
    return [ln.split()[0] for ln in lines[:n]]


def teacher_source(smiles: list[str]):
    from rdkit import Chem, DataStructs
    from rdkit.Chem import MACCSkeys, rdFingerprintGenerator

    from molmtd.training import ArrayTargets

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    keep, maccs, morgan = [], [], []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        if mol is None:
            continue
        keep.append(s)
        a = np.zeros(167, dtype=np.float32)
        DataStructs.ConvertToNumpyArray(MACCSkeys.GenMACCSKeys(mol), a)
        maccs.append(a)
        morgan.append(gen.GetFingerprintAsNumPy(mol).astype(np.float32))
    return ArrayTargets(
        keep, {"maccs": np.array(maccs), "morgan1024": np.array(morgan)}, name="zinc250k-prefix"
    )


def default_config(steps: int, workers: int, batch: int):
    from molmtd.training import TrainConfig
    from molmtd.training.config import resolve_config_path

    cfg = TrainConfig.from_yaml(resolve_config_path("default"))
    cfg.backbone["cache_size"] = 0
    return TrainConfig.from_dict(
        cfg.to_dict()
        | {
            "max_steps": steps,
            "epochs": 1,
            "batch_size": batch,
            "num_workers": workers,
            "val_fraction": 0.01,
            "max_val": 256,
            "eval_every": None,
            "checkpoint_every": None,
            "log_every": 5,
            "warmup_steps": 0,
            "progress": False,
            "eval_at_start": False,
            "device": "cpu",
            "store": None,
        }
    )


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def measure_training(run_dir: Path, steps: int, workers: int, batch: int, n: int) -> float:
    import pandas as pd

    from molmtd.training import Distiller

    Distiller(default_config(steps, workers, batch), teacher_source(corpus(n)), run_dir).fit()
    log = pd.read_csv(run_dir / "log.csv")
    rates = log[log["split"] == "train"]["mol_per_s"].to_numpy()[1:]
    return float(np.median(rates))


def ddp_worker(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(1)
    rate = measure_training(Path(args.run_dir), args.steps, 0, args.batch, args.n_train)
    if os.environ.get("RANK", "0") == "0":
        print(f"DDP_RATE {rate}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-infer", type=int, default=4096)
    parser.add_argument("--threads", default="2,1", help="comma-separated torch thread counts")
    parser.add_argument("--skip-ddp", action="store_true")
    parser.add_argument("--ddp-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.ddp_worker:
        return ddp_worker(args)

    import torch

    from molmtd.backbones import build_backbone
    from molmtd.training import embed

    rows = []
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg = default_config(args.steps, 0, args.batch)
    n_params = sum(p.numel() for p in build_backbone(cfg.backbone).parameters())

    def row(bench, world, threads, workers, n, rate, before, notes=""):
        rows.append(
            {
                "timestamp": stamp,
                "benchmark": bench,
                "world_size": world,
                "torch_threads": threads,
                "loader_workers": workers,
                "batch_size": args.batch,
                "n_molecules": n,
                "mol_per_s": round(rate, 1),
                "load_avg_1m_before": before,
                "load_avg_1m_after": load1(),
                "n_params": n_params,
                "notes": notes,
            }
        )
        print(rows[-1], flush=True)

    from molmtd.backbones.features import GraphCollator

    smiles = corpus(args.n_infer)
    col = GraphCollator()
    before = load1()
    t0 = time.perf_counter()
    batches = [col(smiles[i : i + args.batch]) for i in range(0, len(smiles), args.batch)]
    row(
        "featurise_only",
        1,
        1,
        0,
        len(smiles),
        len(smiles) / (time.perf_counter() - t0),
        before,
        "SMILES->PyG batch, one core",
    )
    with tempfile.TemporaryDirectory() as tmp:
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            # inference: SMILES -> embedding, featurisation included
            model = build_backbone(cfg.backbone).eval()
            embed(model, smiles[:512], batch_size=args.batch)  # warm-up
            for workers in (0, 1):
                before = load1()
                t0 = time.perf_counter()
                embed(model, smiles, batch_size=args.batch, num_workers=workers)
                rate = len(smiles) / (time.perf_counter() - t0)
                row(
                    "inference",
                    1,
                    threads,
                    workers,
                    len(smiles),
                    rate,
                    before,
                    "SMILES->embedding incl. featurisation",
                )
            before = load1()
            t0 = time.perf_counter()
            with torch.no_grad():
                for b in batches:
                    model(b)
            row(
                "inference_precollated",
                1,
                threads,
                0,
                len(smiles),
                len(smiles) / (time.perf_counter() - t0),
                before,
                "forward only",
            )
            before = load1()
            rate = measure_training(
                Path(tmp) / f"train{threads}", args.steps, 1, args.batch, args.n_train
            )
            row(
                "train",
                1,
                threads,
                1,
                args.steps * args.batch,
                rate,
                before,
                "first epoch: every molecule featurised; NLL heads 512x3 for 2 teachers",
            )

        if not args.skip_ddp:
            before = load1()
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "torch.distributed.run",
                    "--standalone",
                    "--nproc_per_node",
                    "2",
                    __file__,
                    "--ddp-worker",
                    "--run-dir",
                    str(Path(tmp) / "ddp"),
                    "--steps",
                    str(args.steps),
                    "--batch",
                    str(args.batch),
                    "--n-train",
                    str(args.n_train),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            rates = [
                float(line.split()[1])
                for line in out.stdout.splitlines()
                if line.startswith("DDP_RATE")
            ]
            if out.returncode != 0 or not rates:
                print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
                raise SystemExit("DDP benchmark failed")
            row(
                "train_ddp",
                2,
                1,
                0,
                args.steps * args.batch,
                rates[0],
                before,
                "torchrun 2 CPU ranks (gloo), global batch split 2x128",
            )

    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    new = not out_path.is_file()
    with open(out_path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        writer.writerows(rows)
    print(f"appended {len(rows)} rows to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
