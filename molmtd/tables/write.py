"""Writing embeddings beside their input rows: .parquet, .csv or .npy, with provenance.

Every file is written to a temporary name beside it and renamed when complete, so a killed
run leaves no file that reads as complete (:func:`molmtd.utils.atomic_open`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.errors import UserError
from molmtd.provenance import PARQUET_KEY, sidecar_path, stamped, write_provenance
from molmtd.student.columns import embedding_names
from molmtd.utils import atomic_open, atomic_save_npy, write_json

OUTPUT_SUFFIXES = (".parquet", ".csv", ".npy")


def check_output_path(path: Path) -> None:
    """Fail before any embedding if ``path`` cannot be written: suffix, folder, permission."""
    if path.suffix not in OUTPUT_SUFFIXES:
        raise UserError(
            f"unsupported output format {path.suffix or '(no suffix)'!r} for {path}: "
            f"use {', '.join(OUTPUT_SUFFIXES)}"
        )
    folder = path.parent
    if not folder.is_dir():
        raise UserError(f"output folder {folder} does not exist (for {path})")
    if path.is_dir():
        raise UserError(f"output {path} is a folder")
    if not os.access(folder, os.W_OK):
        raise UserError(f"output folder {folder} is not writable")


def write_embeddings(
    path: Path,
    emb: np.ndarray,
    valid: np.ndarray,
    table: Any,
    provenance: dict[str, Any] | None = None,
    domain_score: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Write embeddings aligned with the input rows (.parquet/.csv/.npy), atomically.

    ``provenance`` (e.g. :attr:`Featurizer.provenance_`) goes into the parquet metadata or a
    JSON sidecar (``out.provenance.json``), see :func:`molmtd.provenance.write_provenance`.
    ``domain_score`` becomes a ``domain_score`` column (``out.domain_score.npy`` for .npy).
    ``columns`` names the embedding's columns (:meth:`Featurizer.get_feature_names_out`;
    default ``molmtd0 ..``).
    """
    check_output_path(path)
    if path.suffix == ".npy":
        atomic_save_npy(path, emb)
        atomic_save_npy(path.with_suffix(".valid.npy"), valid)
        if domain_score is not None:
            atomic_save_npy(path.with_suffix(".domain_score.npy"), domain_score)
    else:
        out = embedding_frame(table.reset_index(drop=True), emb, valid, domain_score, columns)
        # to a temporary file beside it, renamed when complete: a kill leaves no partial file
        if path.suffix == ".parquet":  # the provenance goes in with the rows, in one write
            _write_parquet(path, out, provenance)
            return
        with atomic_open(path, "w") as fh:
            out.to_csv(fh, index=False)
    if provenance is not None:
        write_provenance(path, stamped(provenance))


def _write_parquet(path: Path, frame: Any, provenance: dict[str, Any] | None) -> None:
    """``frame`` to ``path`` with ``provenance`` in its schema metadata, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if provenance is not None:
        text = json.dumps(stamped(provenance), indent=2, sort_keys=True, default=str)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_KEY: text.encode()})
    with atomic_open(path, "wb") as fh:
        pq.write_table(table, fh)


def embedding_frame(
    table: Any,
    emb: np.ndarray,
    valid: np.ndarray,
    domain_score: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
) -> Any:
    """The rows ``molmtd featurize`` writes, on ``table``'s index.

    Parameters
    ----------
    table
        Input rows (a pandas DataFrame); its columns come first.
    emb
        Embeddings [N, d], row i for ``table``'s row i.
    valid
        Which rows were embedded [N].
    domain_score
        Applicability-domain score [N] (:attr:`Featurizer.domain_score_`), or None for no
        ``domain_score`` column.
    columns
        Names of the d embedding columns (:meth:`Featurizer.get_feature_names_out`), or None
        for ``molmtd0 .. molmtd{d-1}``.

    Returns
    -------
    pandas.DataFrame
        ``table``'s columns, ``valid``, ``domain_score``, then the d embedding columns.
    """
    import pandas as pd

    index = table.index
    names = embedding_names(emb.shape[1]) if columns is None else list(columns)
    if len(names) != emb.shape[1]:
        raise ValueError(f"{len(names)} column names for {emb.shape[1]} embedding columns")
    cols = pd.DataFrame(emb, columns=names, index=index)
    extra = [pd.Series(valid, index=index, name="valid")]
    if domain_score is not None:
        extra.append(pd.Series(domain_score, index=index, name="domain_score"))
    return pd.concat([table, *extra, cols], axis=1)


def write_sidecar(output: Path, record: dict[str, Any], source: Path, rows: int | None) -> Path:
    """Provenance of a streamed or Dask output as a JSON sidecar (never rewrites the data)."""
    side = sidecar_path(Path(output))
    write_json(side, stamped({**record, "input": str(source), "rows": rows}))
    return side
