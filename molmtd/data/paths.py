"""Where data lives: the shared benchmark folder and files inside pip wheels."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

#: Environment variable pointing at a folder laid out like ``shared/data`` (TDC ADMET group
#: split files, MoleculeNet CSVs, corpora). Overrides the search below.
DATA_DIR_ENV = "MOLMTD_DATA_DIR"


def shared_data_dir() -> Path | None:
    """The benchmark data folder, if one is available.

    Looks at ``$MOLMTD_DATA_DIR``, then ``../shared/data`` beside the project checkout and
    beside the current directory. Returns None when none exists (e.g. a pip install on a
    fresh machine: loaders then fall back to files that pip wheels ship).
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise FileNotFoundError(f"${DATA_DIR_ENV}={env} is not a directory")
        return path
    candidates = [
        Path(__file__).resolve().parents[2].parent / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
        Path.cwd() / "shared" / "data",
    ]
    for cand in candidates:
        if (cand / "INDEX.tsv").is_file():
            return cand
    return None


def package_file(package: str, relative: str) -> Path:
    """Path of a data file inside an installed package, without importing the package.

    Several wheels we read data from (molsets, molalkit) fail to import or pull obsolete
    dependencies, so only their location is resolved.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"package {package!r} is not installed; `make venv` installs it "
            f"(pip install --no-deps {package})"
        )
    for root in spec.submodule_search_locations:
        path = Path(root) / relative
        if path.exists():
            return path
    raise FileNotFoundError(f"{relative} not found inside package {package!r}")
