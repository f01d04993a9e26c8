"""``molmtd demo`` / ``python -m molmtd.demo``: the demo's options and its printed report."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from molmtd.cli.base import Subcommand
from molmtd.demo import (
    DEMO_HEAD,
    DEMO_REPS,
    DEMO_SEEDS,
    DEMO_TASKS,
    DemoResult,
    available_reps,
    format_speed,
    format_table,
    rows_origin,
    run_demo,
)
from molmtd.demo import __doc__ as DEMO_DOC


class DemoCommand(Subcommand):
    """``molmtd demo [--sanity]``."""

    name = "demo"
    help = "the shipped model against ECFP4, rdkit2d and MiniMol on four TDC tasks"
    description = DEMO_DOC

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--tasks", default=",".join(DEMO_TASKS), help="TDC ADMET tasks")
        parser.add_argument("--reps", default=",".join(DEMO_REPS), help="representation specs")
        parser.add_argument("--head", default=DEMO_HEAD, choices=("mlp", "linear", "lgbm"))
        parser.add_argument("--seeds", type=int, default=DEMO_SEEDS, help="seeds 1..N")
        parser.add_argument("--out", type=Path, help="keep results CSV and embeddings (default: temp)")
        parser.add_argument("--data-dir", type=Path, help="official TDC files (default: "
                            "$MOLMTD_DATA_DIR, ../shared/data, else the offline copy)")  # fmt: skip
        parser.add_argument("--sanity", action="store_true", help="also run the loss sanity checks")

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        start = time.perf_counter()
        tasks = [t for t in args.tasks.split(",") if t]
        reps = available_reps([r for r in args.reps.split(",") if r])
        print(f"molmtd demo: {len(reps)} representations x {len(tasks)} TDC ADMET tasks x "
              f"{args.seeds} seeds, head {args.head} (a few minutes on 2 cores)", flush=True)  # fmt: skip
        demo = run_demo(tasks, reps, args.head, args.seeds, args.out, args.data_dir, progress=True)
        print()
        print_report(demo, args.seeds, args.head, time.perf_counter() - start)
        if args.sanity:
            sanity_checks()
        return 0 if np.isfinite(demo.results["score"].to_numpy(float)).all() else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m molmtd.demo [options]``."""
    parser = argparse.ArgumentParser(prog="python -m molmtd.demo", description=DEMO_DOC)
    DemoCommand.add_arguments(parser)
    return DemoCommand.run(parser.parse_args(argv))


def print_report(demo: DemoResult, seeds: int, head: str, elapsed: float) -> None:
    """The demo's table, what its numbers are, and the command that gives the same numbers."""
    print(format_table(demo))
    print()
    print(f"scores: test-set metric, mean ± sample std over seeds 1-{seeds} (per seed: TDC's "
          f"scaffold train/valid split of train_val and the head's initialisation); "
          f"head: `molmtd benchmark --head {head}` on frozen embeddings; best: best mean, "
          "'within noise' when the runner-up's mean ± std overlaps it.")  # fmt: skip
    print(f"featurisation in this run (1 process, 1 torch thread): {format_speed(demo)}")
    for spec, name in demo.labels.items():
        if spec.startswith("student:"):
            print(f"{name}: the model shipped in the wheel, `molmtd.Featurizer()`")
    print("test sets:")
    for task, text in demo.test_sets.items():
        print(f"  {task}: {text}")
    print(f"  rows: {rows_origin(demo.sources.values())}")
    same = (f"molmtd benchmark --suite tdc-admet --tasks {','.join(demo.test_sets)} "
            f"--reps {','.join(demo.labels)} --head {head} --seeds {seeds}")  # fmt: skip
    print(f"same numbers: {same}")
    print(f"done in {elapsed:.0f} s")


def sanity_checks() -> None:
    """The loss sanity checks on synthetic data with known answers (``--sanity``)."""
    import torch

    from molmtd.synthetic import gaussian_mi_experiment, two_teacher_experiment

    torch.set_num_threads(2)
    print("== sanity 1. Gaussian kernel on jointly Gaussian (S, T): T = A S + noise ==")
    res = gaussian_mi_experiment()
    print(f"   H(T|S)  analytic {res.h_t_given_s_true:7.3f} nats   "
          f"recovered {res.h_t_given_s_est:7.3f}")  # fmt: skip
    print(f"   I(S;T)  analytic {res.mi_true:7.3f} nats   recovered {res.mi_est:7.3f}")
    print("== sanity 2. Student distilled from two teachers seeing different latent halves ==")
    print("   (teacher 2 has noise sd 4 on half of the samples; linear-probe R² on held-out data)")
    toy = two_teacher_experiment(losses=("nll", "mse", "cosine"), n=8_000, steps=400)
    for loss, scores in toy.items():
        label = "random init" if loss == "random" else f"{loss} student"
        print(f"   {label:15s} R²(z1) = {scores['r2_z1']:.3f}   R²(z2) = {scores['r2_z2']:.3f}")
