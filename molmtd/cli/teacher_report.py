"""``molmtd report-teachers``: what each student knows of each teacher, as tables and a plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from molmtd.cli.base import Subcommand
from molmtd.evaluate.teacher_tables import markdown_report, plot_probe, report_teachers


class ReportTeachersCommand(Subcommand):
    """``molmtd report-teachers --store HELDOUT --models A,B --out DIR``."""

    name = "report-teachers"
    help = "held-out linear-probe R² of each teacher from each embedding (+ kernel MI)"
    description = "what each student knows of each teacher, as tables and a plot"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        p = parser
        p.add_argument("--store", required=True, type=Path, help="store of held-out molecules")
        p.add_argument(
            "--models",
            required=True,
            help="comma-separated representations: student:NAME|PATH, random-student:CONFIG, ...",
        )
        p.add_argument("--teachers", default=None, help="comma-separated subset of the store's")
        p.add_argument("--out", required=True, type=Path, help="output folder")
        p.add_argument("--test-fraction", type=float, default=1 / 3)
        p.add_argument("--seed", type=int, default=0)

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        teachers = [t.strip() for t in args.teachers.split(",")] if args.teachers else None
        tables = report_teachers(args.store, models, args.test_fraction, args.seed, teachers)
        args.out.mkdir(parents=True, exist_ok=True)
        tables["probe"].to_csv(args.out / "probe.csv", index=False)
        tables["groups"].to_csv(args.out / "rdkit2d_groups.csv", index=False)
        tables["kernels"].to_csv(args.out / "kernels.csv", index=False)
        command = (
            "molmtd " + " ".join(sys.argv[1:])
            if sys.argv[0].endswith("molmtd")
            else (
                f"molmtd report-teachers --store {args.store} --models {args.models} --out {args.out}"
            )
        )
        (args.out / "report.md").write_text(markdown_report(tables, command))
        plot_probe(tables["probe"], args.out / "probe_r2.png")
        print(markdown_report(tables, command))
        return 0
