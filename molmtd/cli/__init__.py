"""The ``molmtd`` command line: one module per subcommand, on :class:`~molmtd.cli.base.Subcommand`.

The only package that parses arguments and prints for a user; nothing in the library imports
it. ``python -m molmtd.cli`` (as ``torchrun -m molmtd.cli distill ...`` runs it) is ``molmtd``.
"""

from molmtd.cli.main import build_parser, error_line, main, run_reporting_errors

__all__ = ["build_parser", "error_line", "main", "run_reporting_errors"]
