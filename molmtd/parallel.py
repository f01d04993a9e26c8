"""Featurising past one process: :func:`featurize_dask` over a Dask dataframe's partitions.

>>> import dask.dataframe as dd
>>> from molmtd import featurize_dask
>>> frame = dd.read_parquet("library/*.parquet")  # doctest: +SKIP
>>> featurize_dask(frame, model="default").to_parquet("embeddings/")  # doctest: +SKIP

Each partition is embedded by a :class:`~molmtd.featurizer.Featurizer` in whichever worker
runs it; a worker loads the weights once and keeps the featuriser for later partitions.
The result has the partition's rows in their order, a ``valid`` column, a ``domain_score``
column (:attr:`~molmtd.featurizer.Featurizer.domain_score_`) and ``molmtd0..`` embedding
columns (NaN rows where ``valid`` is False), as the one-shot ``molmtd featurize`` writes them.
Needs the ``distributed`` extra (``pip install 'molmtd[distributed]'``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.errors import UserError

_WORKER_FEATURIZERS: dict[str, Any] = {}


def _featurizer(params: dict[str, Any]) -> Any:
    """This process's featuriser for ``params`` (weights loaded once per process)."""
    import json

    from molmtd.featurizer import Featurizer

    key = json.dumps(params, sort_keys=True, default=str)
    if key not in _WORKER_FEATURIZERS:
        _WORKER_FEATURIZERS[key] = Featurizer(**params)
    return _WORKER_FEATURIZERS[key]


def _embed_partition(part: Any, smiles_col: str, params: dict[str, Any], dim: int) -> Any:
    from molmtd.featurize_cli import embedding_frame

    if len(part) == 0:
        empty = np.zeros(0, dtype=np.float32)
        return embedding_frame(part, np.zeros((0, dim), np.float32), empty.astype(bool), empty)
    featurizer = _featurizer(params)
    emb = featurizer.transform(part[smiles_col].tolist())
    return embedding_frame(part, emb, featurizer.valid_mask_, featurizer.domain_score_)


def featurize_dask(
    frame: Any, smiles_col: str = "smiles", on_error: str = "nan", **featurizer_kwargs: Any
) -> Any:
    """Embed the SMILES column of a Dask dataframe, partition by partition (lazily).

    Parameters
    ----------
    frame
        ``dask.dataframe.DataFrame`` with a SMILES column.
    smiles_col
        Name of that column.
    on_error
        ``"nan"`` (default): invalid molecules get NaN rows and ``valid=False``;
        ``"raise"``: the first one fails the computation.
    **featurizer_kwargs
        Passed to :class:`~molmtd.featurizer.Featurizer` (``model``, ``precision``,
        ``batch_size``, ...); ``n_jobs`` stays 1 (Dask's workers are the parallelism).

    Returns
    -------
    dask.dataframe.DataFrame
        The input's columns, ``valid``, ``domain_score`` (float32; NaN for invalid rows and
        for models without a domain reference), then ``molmtd0 .. molmtd{d-1}`` (float32).
    """
    import pandas as pd

    if smiles_col not in frame.columns:
        raise KeyError(f"column {smiles_col!r} not in {list(frame.columns)}")
    params = {**featurizer_kwargs, "on_error": on_error, "n_jobs": 1}
    dim = _featurizer(params).n_features_out_
    added = {"valid": pd.Series(dtype=bool), "domain_score": pd.Series(dtype=np.float32)}
    added |= {f"molmtd{i}": pd.Series(dtype=np.float32) for i in range(dim)}
    meta = pd.concat([frame._meta, pd.DataFrame(added)], axis=1)
    return frame.map_partitions(_embed_partition, smiles_col, params, dim, meta=meta)


def run_large(args: argparse.Namespace) -> int:
    """``molmtd featurize`` with ``--chunk-rows`` (streaming) or ``--scheduler`` (Dask)."""
    from molmtd.featurize_cli import featurizer_kwargs
    from molmtd.featurizer import Featurizer

    params = featurizer_kwargs(args)
    if args.scheduler:
        return _run_dask(args, params)
    from molmtd.streaming import featurize_file

    featurizer = Featurizer(**params)
    rows, invalid = featurize_file(
        args.input, args.output, featurizer, args.smiles_col, args.chunk_rows
    )
    side = _write_sidecar(args, featurizer.provenance_, rows)
    print(
        f"wrote {rows} rows to {args.output} ({invalid} invalid, NaN rows; "
        f"{featurizer.precision_}; chunks of {args.chunk_rows}); provenance in {side}"
    )
    return 0


def _write_sidecar(args: argparse.Namespace, record: dict[str, Any], rows: int | None) -> Path:
    """Provenance of a streamed or Dask output as a JSON sidecar (never rewrites the data)."""
    from molmtd.provenance import sidecar_path, stamped
    from molmtd.utils import write_json

    side = sidecar_path(Path(args.output))
    write_json(side, stamped({**record, "input": str(args.input), "rows": rows}))
    return side


def _run_dask(args: argparse.Namespace, params: dict[str, Any]) -> int:
    import dask.dataframe as dd
    from dask.distributed import Client

    from molmtd.featurize_cli import _guess_smiles_column
    from molmtd.streaming import SMI_READ_OPTIONS

    path: Path = args.input
    blocksize = "64MB"
    if path.suffix == ".parquet" or path.is_dir():
        frame = dd.read_parquet(str(path))
    elif path.suffix in (".smi", ".txt"):
        frame = dd.read_csv(str(path), blocksize=blocksize, **SMI_READ_OPTIONS)
    elif path.suffix in (".csv", ".tsv"):
        frame = dd.read_csv(
            str(path), sep="\t" if path.suffix == ".tsv" else ",", blocksize=blocksize
        )
    else:
        raise UserError(f"--scheduler reads .smi/.txt/.csv/.tsv/.parquet, not {path.suffix!r}")
    if args.output.suffix not in ("", ".parquet"):
        raise UserError("--scheduler writes a folder of parquet files: give -o OUT.parquet")
    col = args.smiles_col or _guess_smiles_column(frame.columns, path)
    params["n_jobs"] = 1
    # written to a folder beside and renamed when every partition is there
    import shutil

    tmp = args.output.with_name(f".{args.output.name}.tmp-dask")
    shutil.rmtree(tmp, ignore_errors=True)
    with Client(args.scheduler):
        featurize_dask(frame, smiles_col=col, **params).to_parquet(str(tmp))
    if args.output.exists():
        shutil.rmtree(args.output)
    tmp.rename(args.output)
    side = _write_sidecar(args, _featurizer(params).provenance_, None)
    print(
        f"wrote {args.output} (a folder of parquet files, one per partition); provenance in {side}"
    )
    return 0
