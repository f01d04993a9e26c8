"""``molmtd featurize``: embed a file of molecules into .parquet / .csv / .npy with provenance.

The command line of :class:`molmtd.featurizer.Featurizer`: reading the input table, checking
the output path before any molecule is embedded, writing rows (NaN for invalid molecules),
the domain score and the provenance record. Large inputs stream through
:mod:`molmtd.streaming` (``--chunk-rows``) or Dask (:mod:`molmtd.parallel`, ``--scheduler``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import numpy as np

from molmtd.errors import UserError
from molmtd.featurizer import Backend, Featurizer, OnError, Precision, StandardizeOption
from molmtd.utils import atomic_open, atomic_save_npy, rdkit_quiet

OUTPUT_SUFFIXES = (".parquet", ".csv", ".npy")


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

    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    if path.stat().st_size == 0:
        raise UserError(f"input file {path} is empty")
    if suffix in (".smi", ".txt", ".smi.gz"):
        table = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            usecols=[0],
            names=["smiles"],
            comment=None,
            dtype=str,
            engine="python",
        )
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
    col = smiles_col or _guess_smiles_column(table.columns, path)
    if col not in table.columns:
        raise UserError(f"column {col!r} not in {path}; its columns: {list(table.columns)}")
    return table, table[col].tolist()


def drop_smi_header(table: Any) -> Any:
    """A .smi/.txt table without its header line: a first field ``smiles`` (any case)."""
    if len(table) and str(table["smiles"].iloc[0]).strip().lower() == "smiles":
        return table.iloc[1:].reset_index(drop=True)
    return table


def _guess_smiles_column(columns: Sequence[str], path: Path) -> str:
    for col in columns:
        if str(col).lower() in ("smiles", "drug", "mol", "canonical_smiles"):
            return str(col)
    raise UserError(
        f"no SMILES column in {path} (looked for smiles, drug, mol, canonical_smiles among "
        f"{list(map(str, columns))}); pass --smiles-col"
    )


def check_output_path(path: Path) -> None:
    """Fail before any embedding if ``path`` cannot be written: suffix, folder, permission."""
    import os

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
) -> None:
    """Write embeddings aligned with the input rows (.parquet/.csv/.npy), atomically.

    ``provenance`` (e.g. :attr:`Featurizer.provenance_`) goes into the parquet metadata or a
    JSON sidecar (``out.provenance.json``), see :func:`molmtd.provenance.write_provenance`.
    ``domain_score`` becomes a ``domain_score`` column (``out.domain_score.npy`` for .npy).
    """
    check_output_path(path)
    if path.suffix == ".npy":
        atomic_save_npy(path, emb)
        atomic_save_npy(path.with_suffix(".valid.npy"), valid)
        if domain_score is not None:
            atomic_save_npy(path.with_suffix(".domain_score.npy"), domain_score)
    else:
        out = embedding_frame(table.reset_index(drop=True), emb, valid, domain_score)
        # to a temporary file beside it, renamed when complete: a kill leaves no partial file
        if path.suffix == ".parquet":  # the provenance goes in with the rows, in one write
            _write_parquet(path, out, provenance)
            return
        with atomic_open(path, "w") as fh:
            out.to_csv(fh, index=False)
    if provenance is not None:
        from molmtd.provenance import stamped, write_provenance

        write_provenance(path, stamped(provenance))


def _write_parquet(path: Path, frame: Any, provenance: dict[str, Any] | None) -> None:
    """``frame`` to ``path`` with ``provenance`` in its schema metadata, atomically."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from molmtd.provenance import PARQUET_KEY, stamped

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if provenance is not None:
        text = json.dumps(stamped(provenance), indent=2, sort_keys=True, default=str)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_KEY: text.encode()})
    with atomic_open(path, "wb") as fh:
        pq.write_table(table, fh)


def embedding_frame(
    table: Any, emb: np.ndarray, valid: np.ndarray, domain_score: np.ndarray | None = None
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

    Returns
    -------
    pandas.DataFrame
        ``table``'s columns, ``valid``, ``domain_score``, then ``molmtd0 .. molmtd{d-1}``.
    """
    import pandas as pd

    index = table.index
    cols = pd.DataFrame(emb, columns=[f"molmtd{i}" for i in range(emb.shape[1])], index=index)
    extra = [pd.Series(valid, index=index, name="valid")]
    if domain_score is not None:
        extra.append(pd.Series(domain_score, index=index, name="domain_score"))
    return pd.concat([table, *extra, cols], axis=1)


def add_subcommand(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("featurize", help="embed molecules with a molmtd student")
    parser.add_argument("input", type=Path, help=".csv/.tsv/.parquet/.smi/.sdf file")
    parser.add_argument("-o", "--output", type=Path, required=True, help=".parquet/.csv/.npy")
    parser.add_argument(
        "--smiles-col",
        default=None,
        help="SMILES column of a .csv/.tsv/.parquet input (default: the first column named "
        "smiles, drug, mol or canonical_smiles, any case)",
    )
    parser.add_argument(
        "--model",
        default="default",
        help="shipped model name (molmtd models) or the folder of a trained student",
    )
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps")
    parser.add_argument(
        "--batch-size", type=int, default=64, help="molecules per forward pass (default 64)"
    )
    parser.add_argument(
        "--n-jobs",
        type=_count_or_auto,
        default="auto",
        help="processes, each parsing, featurising and embedding with one torch thread; "
        "auto (default): one per core idle at the start (inputs of 512 molecules or more)",
    )
    parser.add_argument(
        "--threads",
        type=_count_or_auto,
        default="auto",
        help="torch threads of a single process's forward pass; auto (default): one per idle "
        "core, so a loaded machine does not stall on threads waiting for a free core",
    )
    parser.add_argument(
        "--on-error",
        choices=get_args(OnError),
        default="nan",
        help="an invalid molecule gets a NaN row and valid=False (nan, the default here), or "
        "stops the run naming its row and SMILES (raise, the default of the Python Featurizer)",
    )
    parser.add_argument(
        "--precision",
        choices=get_args(Precision),
        default="auto",
        help="auto (default): bfloat16 on CPUs with AVX512-BF16/AMX (rows within ~0.5%%), "
        "else float32; int8: linear layers quantised (lossy, rows ~5%% off, CPU only)",
    )
    parser.add_argument(
        "--backend",
        choices=get_args(Backend),
        default="torch",
        help="forward pass by torch, torch.compile (large inputs) or ONNX Runtime",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="stream the input this many rows at a time (bounded memory, resumes after a kill; "
        "see docs/speed.md); .smi/.txt/.csv/.tsv/.parquet inputs",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address: featurise the input's partitions on that cluster",
    )
    parser.add_argument(
        "--standardize",
        choices=get_args(StandardizeOption),
        default="auto",
        help="largest_fragment: drop counterions/solvents; parent: then neutralise; "
        "auto (default): what the model was trained with (none for the shipped models)",
    )
    parser.set_defaults(func=_run)


def _count_or_auto(text: str) -> int | str:
    """argparse type: ``auto`` or an integer (range checked by Featurizer.check_params)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'auto', got {text!r}") from None


def featurizer_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`Featurizer` parameters given on the ``molmtd featurize`` command line."""
    names = (
        "model",
        "device",
        "batch_size",
        "n_jobs",
        "on_error",
        "precision",
        "standardize",
        "backend",
    )
    return {name: getattr(args, name) for name in names} | {"num_threads": args.threads}


def check_options(args: argparse.Namespace) -> None:
    """Refuse, before anything is read or written, options that cannot work (one line)."""
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise UserError(f"--chunk-rows must be >= 1, got {args.chunk_rows}")
    if args.input.exists() and args.output.exists() and args.input.samefile(args.output):
        raise UserError(f"-o {args.output} is the input file; write to another file")
    if args.output.resolve() == args.input.resolve():
        raise UserError(f"-o {args.output} is the input file; write to another file")
    Featurizer(**featurizer_kwargs(args)).check_params()


def _run(args: argparse.Namespace) -> int:
    check_options(args)
    check_output_path(args.output)
    if args.chunk_rows or args.scheduler:
        from molmtd.parallel import run_large

        return run_large(args)
    table, mols = read_molecules(args.input, args.smiles_col)
    featurizer = Featurizer(**featurizer_kwargs(args), verbose=True)
    emb = featurizer.transform(mols)
    record = {**featurizer.provenance_, "input": str(args.input), "rows": len(emb)}
    write_embeddings(
        args.output,
        emb,
        featurizer.valid_mask_,
        table,
        provenance=record,
        domain_score=featurizer.domain_score_,
    )
    n_bad = int((~featurizer.valid_mask_).sum())
    print(
        f"wrote {len(emb)} rows x {emb.shape[1]} to {args.output} ({n_bad} invalid, NaN rows; "
        f"{featurizer.precision_})"
    )
    return 0
