"""Teacher stores: teacher embeddings computed once per molecule, read by training.

A store is a directory of chunked, memory-mapped ``.npy`` arrays keyed by canonical SMILES,
with a ``manifest.json`` that records coverage, failures, configurations and timings. Builds
run on a local process pool or a Dask cluster, survive ``kill -9`` and resume where they
stopped. User guide: ``docs/store.md``.

Modules, from the bottom of the import order to the top (each imports only those above it):

- :mod:`~molmtd.store.format`: the on-disk layout, atomic writes, a new store's files.
- :mod:`~molmtd.store.stats`: per-teacher counts from chunk records, the build report.
- :mod:`~molmtd.store.teacher_store`: :class:`TeacherStore`, open/create, reads, chunk commits.
- :mod:`~molmtd.store.worker`: what pool processes and Dask workers run (one chunk).
- :mod:`~molmtd.store.executors`: the process pool and Dask orchestration.
- :mod:`~molmtd.store.build`: :func:`build_teacher` / :func:`build_store` (plan, commit, resume).
"""

from molmtd.store.build import build_store, build_teacher
from molmtd.store.format import (
    DEFAULT_CHUNK_SIZE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_LISTED_FAILURES,
    ConfigMismatchError,
    StoreError,
    package_versions,
)
from molmtd.store.stats import format_report
from molmtd.store.teacher_store import TeacherStore
from molmtd.store.worker import embed_chunk

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_LISTED_FAILURES",
    "ConfigMismatchError",
    "StoreError",
    "TeacherStore",
    "build_store",
    "build_teacher",
    "embed_chunk",
    "format_report",
    "package_versions",
]
