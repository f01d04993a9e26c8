"""What made an output file: model, weights hash, versions, options.

:func:`software_versions` lists the versions that change numbers; the Featurizer's
``provenance_`` adds its model and options. :func:`write_provenance` stores a record in a
parquet file's key-value metadata (key ``molmtd``) or in a JSON sidecar beside any other
file (``out.csv`` -> ``out.provenance.json``); :func:`read_provenance` reads either back.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from molmtd.utils import atomic_open, atomic_write_text

PARQUET_KEY = b"molmtd"
SIDECAR_SUFFIX = ".provenance.json"


def software_versions() -> dict[str, str | None]:
    """Versions of molmtd and of the libraries its numbers depend on (as they report them)."""
    import numpy
    import rdkit
    import torch

    import molmtd

    return {
        "molmtd": molmtd.__version__,
        "rdkit": rdkit.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def stamped(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the versions (when absent) and the creation time (UTC) added."""
    out = dict(record)
    out.setdefault("versions", software_versions())
    out["created_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return out


def sidecar_path(path: Path) -> Path:
    """JSON sidecar of ``path``: ``out.csv`` -> ``out.provenance.json``."""
    return Path(path).with_suffix(SIDECAR_SUFFIX)


def write_provenance(path: Path, record: dict[str, Any]) -> Path:
    """Attach ``record`` to the file ``path`` (already written); returns where it went.

    A ``.parquet`` file is rewritten with the record as JSON under the schema metadata key
    ``molmtd``; any other file gets a JSON sidecar (:func:`sidecar_path`).
    """
    path = Path(path)
    text = json.dumps(record, indent=2, sort_keys=True, default=str)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = dict(table.schema.metadata or {})
        meta[PARQUET_KEY] = text.encode()
        with atomic_open(path, "wb") as fh:  # rewritten beside, then renamed
            pq.write_table(table.replace_schema_metadata(meta), fh)
        return path
    side = sidecar_path(path)
    atomic_write_text(side, text + "\n")
    return side


def read_provenance(path: Path) -> dict[str, Any]:
    """The record :func:`write_provenance` attached to ``path``.

    Raises
    ------
    FileNotFoundError
        No record: a parquet file without the key, or no sidecar.
    """
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        if PARQUET_KEY not in meta:
            raise FileNotFoundError(f"{path} carries no molmtd provenance")
        return json.loads(meta[PARQUET_KEY])
    return json.loads(sidecar_path(path).read_text())
