"""``molmtd`` command line: ``featurize | teachers | distill | benchmark | models | export-onnx``.

Each subcommand lives beside the code it drives; a module contributes a subcommand by
defining ``add_subcommand(subparsers) -> None`` which registers a parser whose ``func``
default is the handler ``(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from molmtd.errors import UserError

SUBCOMMAND_MODULES = (
    "molmtd.featurize_cli",
    "molmtd.teachers.cli",
    "molmtd.training.cli",
    "molmtd.evaluate.cli",
    "molmtd.evaluate.teacher_report_cli",
    "molmtd.models",
    "molmtd.export",
)


def build_parser() -> argparse.ArgumentParser:
    from molmtd import __version__

    parser = argparse.ArgumentParser(prog="molmtd", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"molmtd {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error (may also be given after the subcommand)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        if hasattr(module, "add_subcommand"):
            module.add_subcommand(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
