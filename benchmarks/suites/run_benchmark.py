"""Thin wrapper: ``python benchmarks/suites/run_benchmark.py ARGS`` == ``molmtd benchmark ARGS``."""

from __future__ import annotations

import sys

from molmtd.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
