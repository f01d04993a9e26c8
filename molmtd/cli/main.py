"""``molmtd``: the parser of every subcommand, and how errors reach the user.

Each subcommand is a :class:`molmtd.cli.base.Subcommand` in a module of its own under
``molmtd/cli/``, listed in :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from molmtd import __version__
from molmtd.cli.base import Subcommand
from molmtd.cli.benchmark import BenchmarkCommand
from molmtd.cli.demo import DemoCommand
from molmtd.cli.distill import DistillCommand
from molmtd.cli.export_onnx import ExportOnnxCommand
from molmtd.cli.export_student import ExportStudentCommand
from molmtd.cli.featurize import FeaturizeCommand
from molmtd.cli.models import ModelsCommand
from molmtd.cli.teacher_report import ReportTeachersCommand
from molmtd.cli.teachers import TeachersCommand
from molmtd.errors import UserError

SUBCOMMANDS: tuple[type[Subcommand], ...] = (
    FeaturizeCommand,
    TeachersCommand,
    DistillCommand,
    BenchmarkCommand,
    ReportTeachersCommand,
    ModelsCommand,
    ExportOnnxCommand,
    ExportStudentCommand,
    DemoCommand,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``molmtd`` parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="molmtd",
        description="molmtd: task-agnostic molecular representations by multi-teacher distillation",
    )
    parser.add_argument("--version", action="version", version=f"molmtd {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error (may also be given after the subcommand)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in SUBCOMMANDS:
        command.add_to(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``molmtd ARGS``: parse, run the subcommand, turn user errors into one line and exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    return run_reporting_errors(args.func, args, debug=debug)


def run_reporting_errors(
    func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, debug: bool
) -> int:
    """Run a subcommand; a user error prints ``molmtd: error: ...`` (one line) and gives 2.

    User errors are :class:`molmtd.errors.UserError` (bad files, columns, molecules, model
    files) and ``OSError`` (missing or unwritable paths). Other exceptions are bugs and keep
    their traceback; ``debug`` shows it for user errors too.
    """
    try:
        return int(func(args) or 0)
    except (UserError, OSError) as err:
        if debug:
            raise
        print(f"molmtd: error: {error_line(err)}", file=sys.stderr)
        return 2


def error_line(err: BaseException) -> str:
    """One line describing ``err``: an ``OSError``'s file and reason, else its message."""
    if isinstance(err, OSError) and err.filename is not None:
        text = f"{err.filename}: {err.strerror or err}"
    else:
        text = str(err) if not isinstance(err, KeyError) else str(err.args[0] if err.args else "")
    return " ".join(text.split()) or type(err).__name__
