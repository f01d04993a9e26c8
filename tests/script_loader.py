"""Import a benchmark script (not a package module) by its path, for its tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).parents[1]


def load_script(relative: str) -> ModuleType:
    """The module of the script at ``REPO / relative`` (e.g. ``benchmarks/tools/x.py``)."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
