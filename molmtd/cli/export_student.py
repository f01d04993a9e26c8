"""``molmtd export-student``: a training checkpoint as a loadable student folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from molmtd.cli.base import Subcommand


class ExportStudentCommand(Subcommand):
    """``molmtd export-student --checkpoint RUN/checkpoints/step-N --out FOLDER``."""

    name = "export-student"
    help = "export a training checkpoint as a student folder (optionally with its teacher heads)"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--checkpoint", type=Path, required=True, help="checkpoint folder")
        parser.add_argument("--out", type=Path, required=True, help="student folder to write")
        parser.add_argument(
            "--teacher-heads",
            action="store_true",
            help="rows = the embedding, then each teacher head's prediction (MSE/cosine only)",
        )

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        from molmtd.training.checkpoint import export_student

        path = export_student(args.checkpoint, args.out, teacher_heads=args.teacher_heads)
        print(f"wrote {path}")
        return 0
