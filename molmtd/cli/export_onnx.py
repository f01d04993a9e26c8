"""``molmtd export-onnx``: write a GINE student as an ONNX file."""

from __future__ import annotations

import argparse
from pathlib import Path

from molmtd.cli.base import Subcommand


class ExportOnnxCommand(Subcommand):
    """``molmtd export-onnx --model NAME -o student.onnx``."""

    name = "export-onnx"
    help = "export a GINE student to ONNX"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", default="default", help="shipped model name or path")
        parser.add_argument("-o", "--output", type=Path, required=True, help=".onnx file")

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        from molmtd.student.onnx import export_onnx  # torch.onnx loads only for this command

        path = export_onnx(args.model, args.output)
        print(f"wrote {path} and {path.with_suffix('.json')}")
        return 0
