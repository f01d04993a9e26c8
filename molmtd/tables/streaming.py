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
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.errors import UserError
from molmtd.student.columns import PREFIX
from molmtd.student.molecules import InvalidMoleculeError
from molmtd.tables.read import iter_chunks
from molmtd.tables.write import OUTPUT_SUFFIXES, embedding_frame
from molmtd.utils import atomic_open, atomic_save_npy, write_json

DEFAULT_CHUNK_ROWS = 20_000
# The columns a part holds; recorded in the manifest so that parts written by an older
# layout (no ``domain_score``) are not joined with newer ones.
PART_LAYOUT = "input,valid,domain_score,molmtd"


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
    path: str | Path,
    output: str | Path,
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
    path, output = Path(path), Path(output)
    if output.suffix not in OUTPUT_SUFFIXES:
        raise UserError(f"unsupported output format {output.suffix!r}: use .parquet, .csv or .npy")
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
    names = [str(n) for n in featurizer.get_feature_names_out()]
    _check_part_columns(parts, names)
    try:
        n_parts = _write_parts(path, parts, featurizer, names, smiles_col, chunk_rows, progress)
        rows, invalid = _join(parts, n_parts, output)
    except BaseException:
        if not any(parts.glob("part-*.parquet")):  # nothing finished: leave nothing behind
            shutil.rmtree(parts, ignore_errors=True)
        raise
    shutil.rmtree(parts)
    return rows, invalid


def _check_part_columns(parts: Path, names: list[str]) -> None:
    """Refuse parts whose row columns are named otherwise (written by another version)."""
    import pyarrow.parquet as pq

    first = next(iter(sorted(parts.glob("part-*.parquet"))), None)
    if first is None:
        return
    written = pq.read_schema(first).names[-len(names) :] if names else []
    if written != names:
        raise RuntimeError(
            f"{parts} holds parts whose row columns are named otherwise ({first.name}: "
            f"{written[-1] if written else 'none'!s}, now {names[-1]}); delete it to start again"
        )


def _write_parts(
    path: Path,
    parts: Path,
    featurizer: Any,
    names: list[str],
    smiles_col: str | None,
    chunk_rows: int,
    progress: bool,
) -> int:
    """Embed each chunk not yet on disk into ``parts/part-NNNNNN.parquet``; the part count."""
    n_parts, start = 0, 0
    for i, (table, mols) in enumerate(iter_chunks(path, smiles_col, chunk_rows)):
        n_parts = i + 1
        part = parts / f"part-{i:06d}.parquet"
        if not part.is_file():
            try:
                emb = featurizer.transform(mols)
            except InvalidMoleculeError as err:  # name the row of the file, not of the chunk
                raise err.shifted(start) from None
            frame = embedding_frame(
                table.reset_index(drop=True),
                emb,
                featurizer.valid_mask_,
                featurizer.domain_score_,
                names,
            )
            with atomic_open(part) as fh:
                frame.to_parquet(fh, index=False)
            if progress:
                print(f"part {i}: {len(frame)} rows", flush=True)
        start += len(mols)
    return n_parts


def _unified_schema(schemas: list[Any]) -> Any:
    """One schema every part fits: per column the parts' common type, else a promotion.

    Chunks of one file can disagree on a column's type (an integer column with a missing
    value only in a later chunk, a chunk whose SMILES are all empty): integers and floats
    promote to float64, a column that is null in some parts takes the others' type, any
    other mix becomes a string column. The result is what a one-shot run would infer.
    """
    import pyarrow as pa

    fields = []
    for name in schemas[0].names:
        types = {s.field(name).type for s in schemas} - {pa.null()}
        if len(types) <= 1:
            kind = types.pop() if types else pa.null()
        elif all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _fit_schema(table: Any, schema: Any) -> Any:
    """``table`` cast to ``schema`` (NaN of a float column becomes null in a string one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.schema.remove_metadata().equals(schema):
        return table.replace_schema_metadata(None)
    columns = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_string(field.type) and pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        columns.append(column.cast(field.type))
    return pa.table(columns, schema=schema)


def _join(parts: Path, n_parts: int, output: Path) -> tuple[int, int]:
    """Concatenate the parts into ``output`` one part at a time; (rows, invalid rows).

    ``output`` appears only complete: the parts are written to a fresh temporary file beside
    it, renamed onto it at the end (:func:`molmtd.utils.atomic_open`); a temporary file left
    by a killed join is never reused.
    """
    import pyarrow.parquet as pq

    for stale in output.parent.glob(f".{output.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    output.with_name(output.name + ".tmp").unlink(missing_ok=True)  # an older layout's
    files = [parts / f"part-{i:06d}.parquet" for i in range(n_parts)]
    metas = [pq.ParquetFile(f) for f in files]
    rows = sum(m.metadata.num_rows for m in metas)
    if rows == 0 and output.suffix != ".npy":
        raise UserError("the input has no rows")
    if output.suffix == ".npy":
        invalid = _join_npy(files, rows, output)
    else:
        schema = _unified_schema([m.schema_arrow for m in metas])
        invalid = 0
        with atomic_open(output, "wb") as fh:
            writer = pq.ParquetWriter(fh, schema) if output.suffix == ".parquet" else None
            for i, f in enumerate(files):
                table = _fit_schema(pq.read_table(f), schema)
                invalid += int((~table.column("valid").to_numpy()).sum())
                if writer is not None:
                    writer.write_table(table)
                else:
                    text = table.to_pandas().to_csv(header=i == 0, index=False)
                    fh.write(text.encode("utf-8"))
            if writer is not None:
                writer.close()
    return rows, invalid


def _join_npy(files: list[Path], rows: int, output: Path) -> int:
    """The parts' embeddings into ``output`` (.npy), with ``.valid.npy`` and
    ``.domain_score.npy`` beside it; ``output`` is renamed into place last."""
    import pyarrow.parquet as pq

    first = pq.read_table(files[0]) if files else None
    dim = sum(1 for c in (first.column_names if first else []) if c.startswith(PREFIX))
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    emb = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(rows, dim))
    valid = np.zeros(rows, dtype=bool)
    domain = np.full(rows, np.nan, dtype=np.float32)
    start = 0
    for f in files:
        table = pq.read_table(f)
        mask = table.column("valid").to_numpy()
        cols = [c for c in table.column_names if c.startswith(PREFIX)]
        emb[start : start + len(mask)] = np.column_stack([table.column(c).to_numpy() for c in cols])
        valid[start : start + len(mask)] = mask
        domain[start : start + len(mask)] = table.column("domain_score").to_numpy()
        start += len(mask)
    emb.flush()
    del emb
    atomic_save_npy(output.with_suffix(".valid.npy"), valid)
    atomic_save_npy(output.with_suffix(".domain_score.npy"), domain)
    os.replace(tmp, output)
    return int((~valid).sum())
