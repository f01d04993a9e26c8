"""The one base every ``molmtd`` subcommand fills in."""

from __future__ import annotations

import argparse
from typing import ClassVar


class Subcommand:
    """A ``molmtd`` subcommand: its name, a help line, its options and its handler.

    Subclasses set :attr:`name` and :attr:`help` (and :attr:`description` for a longer
    ``--help`` text), add their options in :meth:`add_arguments` and do the work in
    :meth:`run`, which returns the exit status. Only subcommands parse arguments and print
    for a user; the library below them neither imports nor calls them.
    """

    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str | None] = None

    @classmethod
    def add_to(cls, subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        """Register this subcommand's parser under ``subparsers``."""
        parser = subparsers.add_parser(cls.name, help=cls.help, description=cls.description)
        cls.add_arguments(parser)
        parser.set_defaults(func=cls.run)
        return parser

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add this subcommand's options to ``parser``."""

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        """Do the work; return the exit status."""
        raise NotImplementedError
