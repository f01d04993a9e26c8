"""Per-teacher statistics of a store: counts summed over chunks, and the build report.

Role: turn chunk commit records (the source of truth) into a teacher's manifest counts,
sum the numeric reports teachers return, and print a store's report. Pure functions on
dicts: imports only :mod:`molmtd.store.format` (for its constants), never the reader or the
build, so both of them can use it. :func:`format_report` takes any object with a ``path`` and
a ``manifest`` (:class:`StoreLike`), such as a :class:`~molmtd.store.teacher_store.TeacherStore`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from molmtd.store.format import MAX_LISTED_FAILURES

_NUMBER = int | float | np.integer | np.floating


class StoreLike(Protocol):
    """What :func:`format_report` reads of a store: its folder and its manifest."""

    @property
    def path(self) -> Path: ...

    @property
    def manifest(self) -> dict[str, Any]: ...


def add_counts(into: dict[str, Any], report: Mapping[str, Any]) -> None:
    """Add the numeric entries of ``report`` to ``into`` (one level of nested dicts too).

    Booleans and non-numeric entries are skipped; nested dicts are summed as floats.
    """
    for key, val in report.items():
        if isinstance(val, bool | np.bool_):
            continue
        if isinstance(val, _NUMBER):
            into[key] = into.get(key, 0) + (val.item() if hasattr(val, "item") else val)
        elif isinstance(val, Mapping):
            sub = into.setdefault(key, {})
            for k2, v2 in val.items():
                if isinstance(v2, _NUMBER):
                    sub[str(k2)] = sub.get(str(k2), 0) + float(v2)


def summarize_chunks(metas: Iterable[dict[str, Any] | None], n: int) -> dict[str, Any]:
    """Aggregate the commit records of a teacher's chunks (None: not built) for ``n`` rows."""
    n_covered = n_valid = n_failed = n_invalid = n_clipped = 0
    seconds = 0.0
    chunks_done = 0
    failures: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    for meta in metas:
        if meta is None:
            continue
        chunks_done += 1
        n_covered += meta["n_covered"]
        n_valid += meta["n_valid"]
        n_failed += meta["n_failed"]
        n_invalid += meta["n_invalid_smiles"]
        n_clipped += meta.get("n_clipped_float16", 0)
        seconds += meta["seconds"]
        add_counts(report, meta.get("teacher_report", {}))
        for f in meta["failures"]:
            if len(failures) < MAX_LISTED_FAILURES:
                failures.append(f)
    return {
        "chunks_done": chunks_done,
        "n_covered": n_covered,
        "coverage": n_covered / n if n else 0.0,
        "n_valid": n_valid,
        "valid_fraction": n_valid / n if n else 0.0,
        "n_failed": n_failed,
        "n_invalid_smiles": n_invalid,
        "n_clipped_float16": n_clipped,
        "failures": failures,
        "teacher_report": report,
        "compute_seconds": round(seconds, 3),
        "mol_per_s_per_worker": round((n_covered - n_invalid) / seconds, 2) if seconds else None,
    }


def format_report(store: StoreLike) -> str:
    """A human-readable build report (markdown table) of a store."""
    m = store.manifest
    lines = [
        f"store {store.path}: {m['n']} molecules ({m['n_invalid']} invalid SMILES, "
        f"{m['n_duplicate']} duplicates), dtype {m['dtype']}, chunk {m['chunk_size']}",
        "",
        "| teacher | family | dim | status | coverage | valid | failed | mol/s (build) | config |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in m["teachers"].items():
        builds = r.get("builds", [])
        rate = builds[-1].get("mol_per_s") if builds else None
        lines.append(
            f"| {name} | {r.get('family')} | {r['dim']} | {r.get('status')} | "
            f"{r.get('coverage', 0):.3f} | {r.get('n_valid', 0)} | {r.get('n_failed', 0)} | "
            f"{rate if rate is not None else '-'} | {r['config_hash']} |"
        )
    for name, r in m["teachers"].items():
        for f in r.get("failures", [])[:5]:
            lines.append(f"  {name} failed row {f['row']} {f['smiles']}: {f['error']}")
        extra = r.get("n_failed", 0) - min(5, len(r.get("failures", [])))
        if extra > 0:
            lines.append(f"  {name}: {extra} more failures listed in manifest.json")
    return "\n".join(lines)
