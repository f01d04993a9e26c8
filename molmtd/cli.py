"""``molmtd`` command line: ``featurize | teachers | distill | benchmark | models | export-onnx``.

Each subcommand lives beside the code it drives; a module contributes a subcommand by
defining ``add_subcommand(subparsers) -> None`` which registers a parser whose ``func``
default is the handler ``(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMAND_MODULES = (
    "molmtd.featurizer",
    "molmtd.teachers.cli",
    "molmtd.training.cli",
    "molmtd.evaluate.cli",
    "molmtd.evaluate.teacher_report_cli",
    "molmtd.models",
    "molmtd.export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="molmtd", description=__doc__.splitlines()[0])
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
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
