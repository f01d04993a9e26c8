"""``molmtd featurize``: embed a file of molecules into .parquet / .csv / .npy with provenance.

The command line of :class:`molmtd.featurizer.Featurizer`: options checked and the output
path tested before any molecule is embedded; the table read and written by
:mod:`molmtd.tables` (rows, NaN for invalid molecules, the domain score and the provenance
record). Large inputs stream (``--chunk-rows``, :mod:`molmtd.tables.streaming`) or go to a
Dask cluster (``--scheduler``, :mod:`molmtd.tables.dask`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_args

from molmtd.cli.base import Subcommand
from molmtd.errors import UserError
from molmtd.featurizer import Backend, Featurizer, OnError, Precision, StandardizeOption
from molmtd.tables.dask import featurize_file_dask
from molmtd.tables.read import read_molecules
from molmtd.tables.streaming import featurize_file
from molmtd.tables.write import check_output_path, write_embeddings, write_sidecar


class FeaturizeCommand(Subcommand):
    """``molmtd featurize INPUT -o OUTPUT``."""

    name = "featurize"
    help = "embed molecules with a molmtd student"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        _add_input_options(parser)
        _add_featurizer_options(parser)
        _add_scale_options(parser)

    @classmethod
    def run(cls, args: argparse.Namespace) -> int:
        check_options(args)
        check_output_path(args.output)
        if args.scheduler:
            return _run_dask(args)
        if args.chunk_rows:
            return _run_streamed(args)
        return _run_one_shot(args)


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help=".csv/.tsv/.parquet/.smi/.sdf file")
    parser.add_argument("-o", "--output", type=Path, required=True, help=".parquet/.csv/.npy")
    parser.add_argument(
        "--smiles-col",
        default=None,
        help="SMILES column of a .csv/.tsv/.parquet input (default: the first column named "
        "smiles, drug, mol or canonical_smiles, any case)",
    )


def _add_featurizer_options(parser: argparse.ArgumentParser) -> None:
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
        "--standardize",
        choices=get_args(StandardizeOption),
        default="auto",
        help="largest_fragment: drop counterions/solvents; parent: then neutralise; "
        "auto (default): what the model was trained with (none for the shipped models)",
    )


def _add_scale_options(parser: argparse.ArgumentParser) -> None:
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


def _run_one_shot(args: argparse.Namespace) -> int:
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
        columns=featurizer.get_feature_names_out(),
    )
    n_bad = int((~featurizer.valid_mask_).sum())
    print(
        f"wrote {len(emb)} rows x {emb.shape[1]} to {args.output} ({n_bad} invalid, NaN rows; "
        f"{featurizer.precision_})"
    )
    return 0


def _run_streamed(args: argparse.Namespace) -> int:
    """``--chunk-rows``: streamed in bounded memory, resumable (:mod:`molmtd.tables.streaming`)."""
    featurizer = Featurizer(**featurizer_kwargs(args))
    rows, invalid = featurize_file(
        args.input, args.output, featurizer, args.smiles_col, args.chunk_rows
    )
    side = write_sidecar(args.output, featurizer.provenance_, args.input, rows)
    print(
        f"wrote {rows} rows to {args.output} ({invalid} invalid, NaN rows; "
        f"{featurizer.precision_}; chunks of {args.chunk_rows}); provenance in {side}"
    )
    return 0


def _run_dask(args: argparse.Namespace) -> int:
    """``--scheduler``: the input's partitions embedded on a Dask cluster."""
    record = featurize_file_dask(
        args.input, args.output, args.scheduler, args.smiles_col, **featurizer_kwargs(args)
    )
    side = write_sidecar(args.output, record, args.input, None)
    print(
        f"wrote {args.output} (a folder of parquet files, one per partition); provenance in {side}"
    )
    return 0
