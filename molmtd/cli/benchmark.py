"""``molmtd benchmark``: frozen-embedding benchmarks (TDC ADMET group, MoleculeNet, paper)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from molmtd.cli.base import Subcommand
from molmtd.data.datasets import SUITES
from molmtd.evaluate.protocol import BenchmarkConfig, run_benchmark
from molmtd.evaluate.report import leaderboard_comparison, summarize, write_report
from molmtd.evaluate.representations import get_representation
from molmtd.provenance import stamped, write_provenance
from molmtd.utils import atomic_write_text


class BenchmarkCommand(Subcommand):
    """``molmtd benchmark --suite SUITE --reps A,B,...``."""

    name = "benchmark"
    help = "score frozen representations on TDC ADMET / MoleculeNet / the paper's suite"
    description = (
        "Embed each task's molecules once per representation (cached), fit a head per "
        "seed on train, select on valid, score test once; write results (resumable), "
        "summary, markdown, ranks and plots under OUT/<suite>/."
    )

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        p = parser
        p.add_argument("--suite", choices=SUITES, default="tdc-admet")
        p.add_argument("--reps", default="ecfp,rdkit2d",
                       help="comma-separated: ecfp, ecfp2, ecfp6, teacher names, student:PATH, "
                            "random-student[:CONFIG]")  # fmt: skip
        p.add_argument("--head", choices=("mlp", "linear", "lgbm"), default="mlp")
        p.add_argument("--seeds", type=int, default=5, help="seeds 1..N (TDC: 5)")
        p.add_argument("--tasks", default=None, help="comma-separated subset of the suite's tasks")
        p.add_argument(
            "--quick",
            action="store_true",
            help="4 small tasks, 2 seeds, small head (smoke test, < 3 min on 2 cores)",
        )
        p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
        p.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="shared data folder (default: $MOLMTD_DATA_DIR or ../shared/data)",
        )
        p.add_argument("--cache-dir", type=Path, default=None,
                       help="embedding cache (default: $MOLMTD_CACHE_DIR/embeddings or "
                            "~/.cache/molmtd/embeddings)")  # fmt: skip
        p.add_argument("--reference", default="ecfp", help="representation for win/tie/loss")
        p.add_argument(
            "--leaderboard",
            type=Path,
            default=None,
            help="CSV task,entry,mean,std of published results to compare with (default for "
            "tdc-admet: OUT/tdc_admet/leaderboard_reference.csv when it exists)",
        )
        p.add_argument(
            "--report-only",
            action="store_true",
            help="compute nothing; summarise the rows already in the results CSV",
        )

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        return main(args)


def main(args: argparse.Namespace) -> int:
    """Run the benchmark of ``args``, write its report and print where it went."""
    reps = [r for r in args.reps.split(",") if r]
    cfg = BenchmarkConfig(
        suite=args.suite, reps=reps, head=args.head, seeds=args.seeds,
        tasks=[t for t in args.tasks.split(",") if t] if args.tasks else None,
        quick=args.quick, out=args.out, data_dir=args.data_dir, cache_dir=args.cache_dir,
        reference=args.reference,
    )  # fmt: skip
    results = run_benchmark(cfg, report_only=args.report_only)
    if results.empty:
        print(f"no results for this configuration in {cfg.results_path}")
        return 1
    title = f"{args.suite} / head={args.head}{' (quick)' if args.quick else ''}"
    paths = write_report(results, cfg.out_dir, cfg.tag, title, args.reference)
    board = args.leaderboard
    if board is None and args.suite == "tdc-admet":
        board = cfg.out_dir / "leaderboard_reference.csv"
    if board is not None and Path(board).is_file() and not args.quick:
        _append_leaderboard(results, paths["markdown"], Path(board))
    paths["provenance"] = write_benchmark_provenance(cfg, args, list(paths.values()))
    print(f"results: {cfg.results_path}")
    for name, path in paths.items():
        print(f"{name}: {path}")
    print(paths["markdown"].read_text())
    if "test_set" in results.columns:  # results written before this column lack it
        print("test sets (where the rows came from, how they compare with the official ones):")
        for task, sub in results.groupby("task", sort=False):
            print(f"  {task}: {sub['test_set'].iloc[0]}; {sub['source'].iloc[0]}")
    return 0


def _append_leaderboard(results: Any, markdown: Path, board: Path) -> None:
    """Add the published leaderboard entries of ``board`` to the report ``markdown``."""
    text = leaderboard_comparison(summarize(results), board)
    if "comparable" in results.columns:
        off = results["comparable"].astype(str).str.lower() == "false"
        if off.any():
            names = ", ".join(sorted(set(results.loc[off, "task"])))
            text = f"Not comparable (test set is not the official one): {names}\n\n{text}"
    report = markdown.read_text()
    atomic_write_text(
        markdown, f"{report}\n## Published leaderboard entries ({board.name})\n\n{text}"
    )


def write_benchmark_provenance(cfg: Any, args: argparse.Namespace, outputs: list[Path]) -> Path:
    """One JSON record beside the results CSV: versions, options, each student's weights hash.

    Written as ``results_<tag>.provenance.json``; it lists the files this run (re)wrote.
    """
    reps = {}
    for spec in cfg.reps:
        if "student" in spec.split(":", 1)[0]:  # student, student-bf16, random-student
            reps[spec] = get_representation(spec).config  # path and content hash, cheap
        else:
            reps[spec] = {"rep": spec}
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    options.pop("func", None)
    record = {
        "command": "molmtd benchmark",
        "options": options,
        "representations": reps,
        "files": [str(p) for p in [cfg.results_path, *outputs]],
    }
    return write_provenance(cfg.results_path, stamped(record))
