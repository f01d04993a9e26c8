"""Errors caused by what the user gave (files, columns, molecules, options), not by bugs.

The command line prints a :class:`UserError` as one line, ``molmtd: error: ...``, and exits
with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input that the message alone explains."""
