"""Names for a student's output columns, read from its metadata.

The embedding's columns are ``molmtd0 .. molmtd{d-1}``. A student exported with its teacher
heads (:func:`molmtd.training.checkpoint.export_student`) carries, after the embedding, each
teacher's predicted (scaled) targets: those columns are named after the teacher and, where
the teacher's stored config lists its descriptors (rdkit2d), after the descriptor
(``molmtd_rdkit2d_MolWt``); otherwise by position (``molmtd_minimol0``). Every name starts
with ``molmtd``, which the table writers use to find the embedding columns again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "molmtd"


def embedding_names(width: int, prefix: str = PREFIX) -> list[str]:
    """``prefix0 .. prefix{width-1}``."""
    return [f"{prefix}{i}" for i in range(width)]


def column_names(meta: Mapping[str, Any] | None, width: int) -> list[str]:
    """The ``width`` column names of a student described by ``meta`` (its ``meta.json``).

    Parameters
    ----------
    meta
        The student's metadata: ``backbone`` (its config, with ``dim`` and optional
        ``teacher_heads`` as ``[[teacher, width], ...]``) and ``teachers`` (each teacher's
        stored record, whose ``config`` may list ``descriptors``). None or a metadata that
        does not add up to ``width`` gives the plain embedding names.
    width
        The number of columns the student writes.

    Returns
    -------
    list[str]
        One unique name per column, in column order.
    """
    backbone = dict((meta or {}).get("backbone") or {})
    heads = [(str(name), int(size)) for name, size in backbone.get("teacher_heads") or ()]
    embedding_width = int(backbone.get("dim", width))
    if not heads or embedding_width + sum(size for _, size in heads) != width:
        return embedding_names(width)
    teachers = dict((meta or {}).get("teachers") or {})
    names = embedding_names(embedding_width)
    for teacher, size in heads:
        config = (teachers.get(teacher) or {}).get("config") or {}
        descriptors = [str(d) for d in config.get("descriptors") or ()]
        if len(descriptors) == size and len(set(descriptors)) == size:
            names += [f"{PREFIX}_{teacher}_{d}" for d in descriptors]
        else:
            names += embedding_names(size, f"{PREFIX}_{teacher}")
    return names
