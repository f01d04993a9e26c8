"""``molmtd featurize --chunk-rows N``: embed a file of any length in bounded memory, resumably.

The input (.smi/.txt/.csv/.tsv, optionally gzipped, or .parquet) is read ``chunk_rows`` rows
at a time; each chunk's rows (the input's columns, ``valid``, ``domain_score`` and the
embeddings, as the one-shot ``molmtd featurize`` writes them) go to
``OUTPUT.parts/part-NNNNNN.parquet`` (written to a temporary name, then renamed, so a part on
disk is always complete). A rerun after a kill skips the parts already written, provided the
input, model, precision, chunk size and part layout are those recorded in
``OUTPUT.parts/manifest.json``. When every part is there they are joined into ``OUTPUT``
(.parquet row group by row group, .csv appended, .npy through a memory map, with
``.valid.npy`` and ``.domain_score.npy`` beside it) and the parts folder is removed.

Memory: one chunk's input table and its ``chunk_rows x dim`` float32 rows (20,000 x 512 x
4 B = 41 MB by default) plus the model and featurisation buffers, whatever the file's length.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.featurize_cli import _guess_smiles_column, embedding_frame
from molmtd.utils import atomic_open, atomic_save_npy, write_json

DEFAULT_CHUNK_ROWS = 20_000
# The columns a part holds; recorded in the manifest so that parts written by an older
# layout (no ``domain_score``) are not joined with newer ones.
PART_LAYOUT = "input,valid,domain_score,molmtd"
# A .smi/.txt file: the first whitespace-separated field of each line is the SMILES.
SMI_READ_OPTIONS: dict[str, Any] = {
    "sep": r"\s+",
    "header": None,
    "usecols": [0],
    "names": ["smiles"],
    "dtype": str,
    "engine": "python",
}


def _suffix(path: Path) -> str:
    return "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix


def iter_chunks(
    path: Path, smiles_col: str | None, chunk_rows: int
) -> Iterator[tuple[Any, list[Any]]]:
    """(input table chunk, its SMILES) for consecutive ``chunk_rows``-row chunks of ``path``."""
    import pandas as pd

    suffix = _suffix(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            table = batch.to_pandas()
            col = smiles_col or _guess_smiles_column(table.columns, path)
            yield table, table[col].tolist()
        return
    if suffix in (".smi", ".txt", ".smi.gz", ".txt.gz"):
        reader = pd.read_csv(path, chunksize=chunk_rows, **SMI_READ_OPTIONS)
    elif suffix in (".csv", ".csv.gz", ".tsv", ".tsv.gz"):
        sep = "\t" if suffix.startswith(".tsv") else ","
        reader = pd.read_csv(path, sep=sep, chunksize=chunk_rows)
    else:
        raise ValueError(
            f"cannot stream {suffix!r} files: use .smi/.txt/.csv/.tsv (optionally .gz) or .parquet"
        )
    with reader:
        for table in reader:
            col = smiles_col or _guess_smiles_column(table.columns, path)
            if col not in table.columns:
                raise KeyError(f"column {col!r} not in {path}; columns: {list(table.columns)}")
            yield table.reset_index(drop=True), table[col].tolist()


def _manifest(path: Path, featurizer: Any, chunk_rows: int) -> dict[str, Any]:
    stat = path.stat()
    return {
        "input": str(path.resolve()),
        "input_bytes": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns,
        "model": str(featurizer.model),
        "precision": featurizer.precision_,
        "chunk_rows": int(chunk_rows),
        "layout": PART_LAYOUT,
    }


def featurize_file(
    path: Path,
    output: Path,
    featurizer: Any,
    smiles_col: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = True,
) -> tuple[int, int]:
    """Embed ``path`` chunk by chunk into ``output``; resumes an interrupted run.

    Returns
    -------
    (rows, invalid rows)
    """
    if output.suffix not in (".parquet", ".csv", ".npy"):
        raise ValueError(f"unsupported output format {output.suffix!r}: use .parquet, .csv or .npy")
    parts = output.with_name(output.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(path, featurizer, chunk_rows)
    recorded = parts / "manifest.json"
    if recorded.is_file():
        previous = json.loads(recorded.read_text())
        if previous != manifest:
            changed = sorted(k for k in manifest if previous.get(k) != manifest[k])
            raise RuntimeError(
                f"{parts} holds parts of a different run (changed: {', '.join(changed)}); "
                "delete it to start again"
            )
    else:
        write_json(recorded, manifest)  # atomic: a kill cannot leave it half-written
    n_parts = 0
    for i, (table, mols) in enumerate(iter_chunks(path, smiles_col, chunk_rows)):
        n_parts = i + 1
        part = parts / f"part-{i:06d}.parquet"
        if part.is_file():
            continue
        emb = featurizer.transform(mols)
        frame = embedding_frame(
            table.reset_index(drop=True), emb, featurizer.valid_mask_, featurizer.domain_score_
        )
        with atomic_open(part) as fh:
            frame.to_parquet(fh, index=False)
        if progress:
            print(f"part {i}: {len(frame)} rows", flush=True)
    rows, invalid = _join(parts, n_parts, output)
    shutil.rmtree(parts)
    return rows, invalid


def _join(parts: Path, n_parts: int, output: Path) -> tuple[int, int]:
    """Concatenate the parts into ``output`` one part at a time; (rows, invalid rows)."""
    import pyarrow.parquet as pq

    files = [parts / f"part-{i:06d}.parquet" for i in range(n_parts)]
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    invalid = 0
    tmp = output.with_name(output.name + ".tmp")
    if output.suffix == ".npy":
        first = pq.read_table(files[0]) if files else None
        dim = sum(1 for c in (first.column_names if first else []) if c.startswith("molmtd"))
        emb = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(rows, dim))
        valid = np.zeros(rows, dtype=bool)
        domain = np.full(rows, np.nan, dtype=np.float32)
    writer = None
    start = 0
    for f in files:
        table = pq.read_table(f)
        mask = table.column("valid").to_numpy()
        invalid += int((~mask).sum())
        if output.suffix == ".parquet":
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        elif output.suffix == ".csv":
            table.to_pandas().to_csv(tmp, mode="a", header=start == 0, index=False)
        else:
            cols = [c for c in table.column_names if c.startswith("molmtd")]
            emb[start : start + len(mask)] = np.column_stack(
                [table.column(c).to_numpy() for c in cols]
            )
            valid[start : start + len(mask)] = mask
            domain[start : start + len(mask)] = table.column("domain_score").to_numpy()
        start += len(mask)
    if writer is not None:
        writer.close()
    if output.suffix == ".npy":
        emb.flush()
        del emb
        atomic_save_npy(output.with_suffix(".valid.npy"), valid)
        atomic_save_npy(output.with_suffix(".domain_score.npy"), domain)
    if rows == 0 and output.suffix != ".npy":
        raise ValueError("the input has no rows")
    os.replace(tmp, output)
    return rows, invalid
