"""Reading molecule tables: .csv/.tsv/.parquet/.smi/.txt/.sdf (optionally gzipped).

One place for what every entry point reads: the whole table (:func:`read_molecules`),
consecutive chunks of it (:func:`iter_chunks`, for streaming) or a Dask dataframe
(:func:`read_dask_frame`); the SMILES column is named or guessed (:func:`smiles_of`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from molmtd.errors import UserError
from molmtd.utils import rdkit_quiet

# A .smi/.txt file: the first whitespace-separated field of each line is the SMILES.
SMI_READ_OPTIONS: dict[str, Any] = {
    "sep": r"\s+",
    "header": None,
    "usecols": [0],
    "names": ["smiles"],
    "dtype": str,
    "engine": "python",
}


def table_suffix(path: Path) -> str:
    """``.csv``, ``.smi.gz``, ...: the suffix that says how to read ``path``."""
    return "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix


def read_molecules(path: Path, smiles_col: str | None) -> tuple[Any, list[Any]]:
    """Read an input table and its molecules (.csv/.tsv/.parquet/.smi/.txt/.sdf).

    Raises
    ------
    UserError
        The file is missing, empty, unreadable, or has no SMILES column; the message names
        the file (and the columns).
    """
    if not path.exists():
        raise UserError(f"input file {path} does not exist")
    if not path.is_file():
        raise UserError(f"input {path} is not a file")
    try:
        table, mols = _read_table(path, smiles_col)
    except UserError:
        raise
    except Exception as err:  # pandas, pyarrow and gzip raise many types for a bad file
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UserError(f"cannot read {path}: {reason}") from err
    if not mols:
        raise UserError(f"input file {path} holds no molecules")
    return table, mols


def _read_table(path: Path, smiles_col: str | None) -> tuple[Any, list[Any]]:
    import pandas as pd

    suffix = table_suffix(path)
    if path.stat().st_size == 0:
        raise UserError(f"input file {path} is empty")
    if suffix in (".smi", ".txt", ".smi.gz"):
        table = pd.read_csv(path, comment=None, **SMI_READ_OPTIONS)
        table = drop_smi_header(table)
        return table, table["smiles"].tolist()
    if suffix in (".sdf", ".sdf.gz"):
        from rdkit import Chem

        with rdkit_quiet():
            supplier = Chem.ForwardSDMolSupplier(str(path)) if suffix == ".sdf" else None
            if supplier is None:
                import gzip

                supplier = Chem.ForwardSDMolSupplier(gzip.open(path))
            mols = list(supplier)
        names = [m.GetProp("_Name") if m is not None and m.HasProp("_Name") else "" for m in mols]
        return pd.DataFrame({"name": names}), [
            m if m is not None else "<unreadable record>" for m in mols
        ]
    if suffix in (".parquet",):
        table = pd.read_parquet(path)
    else:
        table = pd.read_csv(path, sep="\t" if suffix in (".tsv", ".tsv.gz") else ",")
    return table, smiles_of(table, smiles_col, path)


def drop_smi_header(table: Any) -> Any:
    """A .smi/.txt table without its header line: a first field ``smiles`` (any case)."""
    if len(table) and str(table["smiles"].iloc[0]).strip().lower() == "smiles":
        return table.iloc[1:].reset_index(drop=True)
    return table


def guess_smiles_column(columns: Sequence[str], path: Path) -> str:
    """The first column named smiles, drug, mol or canonical_smiles (any case)."""
    for col in columns:
        if str(col).lower() in ("smiles", "drug", "mol", "canonical_smiles"):
            return str(col)
    raise UserError(
        f"no SMILES column in {path} (looked for smiles, drug, mol, canonical_smiles among "
        f"{list(map(str, columns))}); pass --smiles-col"
    )


def smiles_of(table: Any, smiles_col: str | None, path: Path) -> list[Any]:
    """The molecules of ``table`` (read from ``path``): column ``smiles_col`` or the guessed one."""
    col = smiles_col or guess_smiles_column(table.columns, path)
    if col not in table.columns:
        raise UserError(f"column {col!r} not in {path}; its columns: {list(table.columns)}")
    return table[col].tolist()


def iter_chunks(
    path: Path, smiles_col: str | None, chunk_rows: int
) -> Iterator[tuple[Any, list[Any]]]:
    """(input table chunk, its SMILES) for consecutive ``chunk_rows``-row chunks of ``path``.

    Raises
    ------
    UserError
        The file is missing, empty, of a format that cannot be streamed, unreadable, or has
        no such SMILES column (one line naming the file).
    """
    if not path.is_file():
        raise UserError(f"input file {path} does not exist")
    if path.stat().st_size == 0:
        raise UserError(f"input file {path} is empty")
    try:
        yield from _chunks(path, smiles_col, chunk_rows)
    except UserError:
        raise
    except (ValueError, KeyError, OSError, UnicodeDecodeError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UserError(f"cannot read {path}: {reason}") from err


def _chunks(path: Path, smiles_col: str | None, chunk_rows: int) -> Iterator[tuple[Any, list[Any]]]:
    import pandas as pd

    suffix = table_suffix(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            table = batch.to_pandas()
            yield table, smiles_of(table, smiles_col, path)
        return
    if suffix in (".smi", ".txt", ".smi.gz", ".txt.gz"):
        reader = pd.read_csv(path, chunksize=chunk_rows, **SMI_READ_OPTIONS)
    elif suffix in (".csv", ".csv.gz", ".tsv", ".tsv.gz"):
        sep = "\t" if suffix.startswith(".tsv") else ","
        reader = pd.read_csv(path, sep=sep, chunksize=chunk_rows)
    else:
        raise UserError(
            f"cannot stream {suffix or '(no suffix)'!r} files like {path}: use "
            ".smi/.txt/.csv/.tsv (optionally .gz) or .parquet"
        )
    with reader:
        for i, table in enumerate(reader):
            if suffix.startswith((".smi", ".txt")) and i == 0:
                table = drop_smi_header(table)
            yield table.reset_index(drop=True), smiles_of(table, smiles_col, path)


def read_dask_frame(path: Path, blocksize: str = "64MB") -> Any:
    """``path`` (.smi/.txt/.csv/.tsv or .parquet file or folder) as a Dask dataframe."""
    import dask.dataframe as dd

    if path.suffix == ".parquet" or path.is_dir():
        return dd.read_parquet(str(path))
    if path.suffix in (".smi", ".txt"):
        return dd.read_csv(str(path), blocksize=blocksize, **SMI_READ_OPTIONS)
    if path.suffix in (".csv", ".tsv"):
        sep = "\t" if path.suffix == ".tsv" else ","
        return dd.read_csv(str(path), sep=sep, blocksize=blocksize)
    raise UserError(f"--scheduler reads .smi/.txt/.csv/.tsv/.parquet, not {path.suffix!r}")
