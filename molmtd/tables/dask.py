"""Featurising past one process: :func:`featurize_dask` over a Dask dataframe's partitions.

>>> import dask.dataframe as dd
>>> from molmtd import featurize_dask
>>> frame = dd.read_parquet("library/*.parquet")  # doctest: +SKIP
>>> featurize_dask(frame, model="default").to_parquet("embeddings/")  # doctest: +SKIP

Each partition is embedded by a :class:`~molmtd.featurizer.Featurizer` in whichever worker
runs it; a worker loads the weights once and keeps the featuriser for later partitions.
The result has the partition's rows in their order, a ``valid`` column, a ``domain_score``
column (:attr:`~molmtd.featurizer.Featurizer.domain_score_`) and the ``molmtd..`` row
columns (NaN rows where ``valid`` is False), as the one-shot ``molmtd featurize`` writes them.
Needs the ``distributed`` extra (``pip install 'molmtd[distributed]'``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.errors import UserError
from molmtd.featurizer import Featurizer
from molmtd.tables.read import guess_smiles_column, read_dask_frame
from molmtd.tables.write import embedding_frame

_WORKER_FEATURIZERS: dict[str, Any] = {}


def _featurizer(params: dict[str, Any]) -> Any:
    """This process's featuriser for ``params`` (weights loaded once per process)."""
    key = json.dumps(params, sort_keys=True, default=str)
    if key not in _WORKER_FEATURIZERS:
        _WORKER_FEATURIZERS[key] = Featurizer(**params)
    return _WORKER_FEATURIZERS[key]


def _embed_partition(
    part: Any, smiles_col: str, params: dict[str, Any], names: list[str]
) -> Any:
    if len(part) == 0:
        empty = np.zeros(0, dtype=np.float32)
        rows = np.zeros((0, len(names)), np.float32)
        return embedding_frame(part, rows, empty.astype(bool), empty, names)
    featurizer = _featurizer(params)
    emb = featurizer.transform(part[smiles_col].tolist())
    return embedding_frame(part, emb, featurizer.valid_mask_, featurizer.domain_score_, names)


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
        for models without a domain reference), then the row columns (float32), named as
        :meth:`~molmtd.featurizer.Featurizer.get_feature_names_out` names them.
    """
    import pandas as pd

    if smiles_col not in frame.columns:
        raise KeyError(f"column {smiles_col!r} not in {list(frame.columns)}")
    params = {**featurizer_kwargs, "on_error": on_error, "n_jobs": 1}
    names = [str(n) for n in _featurizer(params).get_feature_names_out()]
    added = {"valid": pd.Series(dtype=bool), "domain_score": pd.Series(dtype=np.float32)}
    added |= {name: pd.Series(dtype=np.float32) for name in names}
    meta = pd.concat([frame._meta, pd.DataFrame(added)], axis=1)
    return frame.map_partitions(_embed_partition, smiles_col, params, names, meta=meta)


def featurize_file_dask(
    path: Path, output: Path, scheduler: str, smiles_col: str | None, **params: Any
) -> dict[str, Any]:
    """Embed ``path``'s partitions on the Dask cluster at ``scheduler`` into ``output``.

    ``output`` is a folder of parquet files (one per partition), written beside under a
    temporary name and renamed when every partition is there. Returns the provenance record
    of the featuriser that made the rows.
    """
    import shutil

    from dask.distributed import Client

    if output.suffix not in ("", ".parquet"):
        raise UserError("--scheduler writes a folder of parquet files: give -o OUT.parquet")
    frame = read_dask_frame(path)
    col = smiles_col or guess_smiles_column(frame.columns, path)
    params = {**params, "n_jobs": 1}
    tmp = output.with_name(f".{output.name}.tmp-dask")
    shutil.rmtree(tmp, ignore_errors=True)
    with Client(scheduler):
        featurize_dask(frame, smiles_col=col, **params).to_parquet(str(tmp))
    if output.exists():
        shutil.rmtree(output)
    tmp.rename(output)
    return _featurizer(params).provenance_
