"""Molecule tables in, embedding tables out: one place for every reader and writer.

- :mod:`~molmtd.tables.read`: .csv/.tsv/.parquet/.smi/.txt/.sdf (optionally gzipped), whole,
  in chunks or as a Dask dataframe; the SMILES column named or guessed.
- :mod:`~molmtd.tables.write`: rows beside their input (.parquet/.csv/.npy) with provenance,
  atomically.
- :mod:`~molmtd.tables.streaming`: :func:`featurize_file`, any length in bounded memory,
  resumable.
- :mod:`~molmtd.tables.dask`: :func:`featurize_dask` over a Dask dataframe's partitions.
"""

from molmtd.tables.read import read_molecules
from molmtd.tables.streaming import featurize_file
from molmtd.tables.write import write_embeddings

__all__ = ["featurize_file", "read_molecules", "write_embeddings"]
