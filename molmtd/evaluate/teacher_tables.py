"""The teacher report: what each representation knows of each teacher, as tables and a plot.

:func:`report_teachers` computes the tables (:mod:`molmtd.evaluate.teacher_report` holds the
probe and kernel measurements), :func:`markdown_report` and :func:`plot_probe` present them.
From the command line::

    molmtd report-teachers --store stores/heldout3k \\
        --models student:default,student:runs/x,random-student:zinc200k \\
        --out benchmarks/results/teacher_report/shipped_models

The store must hold teacher embeddings of molecules the students never saw (see
``docs/teacher_report.md`` for the held-out ZINC250k store used in the committed results).
Writes ``probe.csv`` (per representation and teacher), ``rdkit2d_groups.csv``, ``kernels.csv``
(runs whose checkpoints keep their kernels), ``report.md`` and ``probe_r2.png``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molmtd.evaluate.teacher_report import (
    descriptor_group_rows,
    held_out_mask,
    linear_probe,
    probe_row,
    student_kernel_rows,
    teacher_kinds,
)

log = logging.getLogger(__name__)


def report_teachers(
    store_path: str | Path,
    models: list[str],
    test_fraction: float = 1 / 3,
    seed: int = 0,
    teachers: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Probe every representation in ``models`` against every teacher of a held-out store.

    Returns
    -------
    dict of DataFrames
        ``"probe"``: one row per (representation, teacher); ``"groups"``: rdkit2d descriptor
        groups; ``"kernels"``: kernel NLL/MI/precision rows for runs that keep their kernels.
    """
    from molmtd.evaluate.representations import get_representation
    from molmtd.store import TeacherStore

    store = TeacherStore.open(store_path)
    info = store.teachers
    names = teachers or [n for n, rec in info.items() if rec.get("status") in (None, "complete")]
    smiles = store.smiles
    data = {name: store.read_all(name) for name in names}
    in_test = held_out_mask(len(smiles), test_fraction, seed)
    kinds = teacher_kinds(data)
    descriptor_names = (info.get("rdkit2d", {}).get("config") or {}).get("descriptors")

    probe_rows: list[dict[str, Any]] = []
    group_rows: list[dict[str, Any]] = []
    kernel_rows: list[dict[str, Any]] = []
    for spec in models:
        X, x_ok = get_representation(spec).embed(list(smiles))
        log.info("%s: %d of %d molecules embedded", spec, int(x_ok.sum()), len(smiles))
        for name in names:
            T, t_ok = data[name]
            ok = x_ok & t_ok
            train, test = np.flatnonzero(ok & ~in_test), np.flatnonzero(ok & in_test)
            res = linear_probe(X, T, train, test)
            probe_rows.append(probe_row(spec, name, info[name].get("family"), kinds[name], res))
            if name == "rdkit2d" and descriptor_names and len(descriptor_names) == T.shape[1]:
                group_rows += descriptor_group_rows(spec, res, descriptor_names)
        kernel_rows += student_kernel_rows(spec, X, in_test & x_ok, data)
    return {
        "probe": pd.DataFrame(probe_rows),
        "groups": pd.DataFrame(group_rows),
        "kernels": pd.DataFrame(kernel_rows),
    }


def _by_representation(table: pd.DataFrame, index: str) -> pd.DataFrame:
    """Pooled R² as ``index`` x representation, representations in their input order."""
    wide = table.pivot(index=index, columns="representation", values="r2_pooled")
    return wide[list(dict.fromkeys(table["representation"]))]


def markdown_report(tables: dict[str, pd.DataFrame], command: str) -> str:
    probe = tables["probe"]
    wide = _by_representation(probe, "teacher")
    order = probe.drop_duplicates("teacher").set_index("teacher")
    wide.insert(0, "kind", order["kind"])
    lines = [
        "# What the student knows of each teacher",
        "",
        f"Command: `{command}`",
        "",
        "Held-out linear-probe R² (pooled over the teacher's z-scored dimensions; ridge fitted "
        "on 2/3 of the held-out molecules, scored on the other 1/3). 1 = the embedding "
        "determines the teacher linearly; 0 = no better than the mean.",
        "",
        wide.to_markdown(floatfmt=".3f"),
        "",
    ]
    groups = tables["groups"]
    if len(groups):
        g = _by_representation(groups, "group")
        n = groups.drop_duplicates("group").set_index("group")["n_descriptors"]
        g.insert(0, "descriptors", n)
        lines += [
            "## rdkit2d by descriptor group (pooled R²)",
            "",
            g.to_markdown(floatfmt=".3f"),
            "",
        ]
    kernels = tables["kernels"]
    if len(kernels):
        lines += [
            "## Kernels of the runs (held-out third)",
            "",
            "NLL and MI estimate (nats per molecule, normalised targets); log-precision "
            "quantiles of the Gaussian kernels over molecules x active dimensions, and the "
            "share within 5% of the bound.",
            "",
            kernels.to_markdown(index=False, floatfmt=".3g"),
            "",
        ]
    return "\n".join(lines)


def plot_probe(probe: pd.DataFrame, out_png: Path) -> Path:
    """Heatmap of pooled R²: teachers (rows) x representations (columns)."""
    from matplotlib.figure import Figure

    wide = _by_representation(probe, "teacher")
    wide = wide.loc[list(dict.fromkeys(probe["teacher"]))]
    fig = Figure(figsize=(1.3 * wide.shape[1] + 3, 0.38 * wide.shape[0] + 1.8))
    ax = fig.subplots()
    im = ax.imshow(wide.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(
        range(wide.shape[1]),
        [c.replace("student:", "") for c in wide.columns],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    ax.set_yticks(range(wide.shape[0]), wide.index, fontsize=8)
    for (i, j), v in np.ndenumerate(wide.to_numpy()):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v < 0.5 else "black",
            )
    fig.colorbar(im, ax=ax, label="held-out linear-probe R²")
    ax.set_title("What the embedding knows of each teacher")
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    return out_png
