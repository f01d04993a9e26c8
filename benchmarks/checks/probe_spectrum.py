"""Which parts of a teacher does a representation recover? The held-out probe per principal
component.

    python benchmarks/checks/probe_spectrum.py --store stores/heldout3k --teacher minimol \
        --models student:zinc200k-gine-minimol-mse-heads,student:zinc200k-gine-minimol-mse,\
random-student:zinc200k-minimol,rdkit2d --out benchmarks/results/probe_spectrum

A teacher of the store named in ``--models`` (``rdkit2d`` here) is probed from its stored rows.
The held-out probe of ``molmtd report-teachers`` (same store, same seeded split, same ridge)
pools R² over the teacher's *standardised* dimensions, so each of MiniMol's 512 dimensions
counts the same however little it varies. Here the teacher's rows are first rotated onto
their principal components (fitted on the probe's training rows only) and each
representation is probed per component, which says whether what is missed is the bulk of
the teacher's variance or its long tail. Reported per representation: the pooled R² over
standardised dimensions (the probe's headline number), the variance-weighted R² (the
fraction of the teacher's total held-out variance the ridge explains), for a student whose
rows carry a head for the teacher the R² of that head's own predictions (each column only
rescaled: no probe across columns, so no limit from the probe's 2,000 training rows), and the mean R² of
the components in bands of rank (1-10, 11-50, 51-200, 201-end), with the share of variance
each band holds. Writes ``spectrum.csv``, ``bands.csv``, ``README.md`` and ``spectrum.png``
under ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from molmtd.evaluate.representations import get_representation
from molmtd.evaluate.teacher_report import held_out_mask, linear_probe
from molmtd.store import TeacherStore
from molmtd.utils import atomic_write_text

BANDS = ((1, 10), (11, 50), (51, 200), (201, None))


def principal_components(T: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``T`` rotated onto the principal components of its ``train`` rows, and each one's
    share of the training variance (largest first)."""
    centred = T - T[train].mean(0)
    _, singular, basis = np.linalg.svd(centred[train], full_matrices=False)
    share = singular**2 / (singular**2).sum()
    return centred @ basis.T, share


def probe_spectrum(
    X: np.ndarray, T: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-component R² of the ridge probe ``X -> PCs of T`` and the summary numbers."""
    pcs, share = principal_components(T, train)
    keep = share > 1e-9  # components of numerically zero variance are not scored
    per_pc = linear_probe(X, pcs[:, keep], train, test)
    whole = linear_probe(X, T, train, test)
    variance = pcs[test][:, keep].var(0)
    r2 = per_pc.r2_per_dim
    table = pd.DataFrame(
        {"pc": np.arange(1, int(keep.sum()) + 1), "variance_share": share[keep], "r2": r2}
    )
    ok = np.isfinite(r2)
    summary = {
        "r2_pooled_standardised": whole.r2_pooled,
        "r2_variance_weighted": float(1 - (variance * (1 - r2))[ok].sum() / variance[ok].sum()),
        "pcs_for_90pct_variance": int(np.searchsorted(np.cumsum(share), 0.9) + 1),
    }
    return table, summary


def head_columns(spec: str, teacher: str, width: int) -> np.ndarray | None:
    """Indices of a ``student:`` model's head columns for ``teacher``, None if it has none."""
    if not spec.startswith("student:"):
        return None
    from molmtd import Featurizer

    names = [str(n) for n in Featurizer(spec.split(":", 1)[1]).get_feature_names_out()]
    idx = np.array([i for i, n in enumerate(names) if n.startswith(f"molmtd_{teacher}")])
    return idx if len(idx) == width else None


def affine_r2(H: np.ndarray, T: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Pooled held-out R² over standardised dimensions of ``T[:, j] ~ a_j H[:, j] + b_j``:
    the heads' own predictions, each only rescaled (no probe fitted across columns)."""
    H, T = H.astype(np.float64), T.astype(np.float64)
    hc = H[train] - H[train].mean(0)
    tc = T[train] - T[train].mean(0)
    slope = (hc * tc).sum(0) / np.maximum((hc**2).sum(0), 1e-12)
    pred = T[train].mean(0) + slope * (H[test] - H[train].mean(0))
    scale = np.maximum(T[train].std(0), 1e-6) ** 2
    sse = (((T[test] - pred) ** 2).sum(0) / scale).sum()
    sst = (((T[test] - T[test].mean(0)) ** 2).sum(0) / scale).sum()
    return float(1 - sse / sst)


def band_rows(representation: str, table: pd.DataFrame) -> list[dict[str, object]]:
    rows = []
    for first, last in BANDS:
        band = table[(table["pc"] >= first) & ((table["pc"] <= last) if last else True)]
        if band.empty:
            continue
        rows.append(
            {
                "representation": representation,
                "pcs": f"{first}-{last or int(band['pc'].max())}",
                "variance_share": float(band["variance_share"].sum()),
                "mean_r2": float(band["r2"].mean()),
            }
        )
    return rows


def plot(spectrum: pd.DataFrame, teacher: str, out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for rep, sub in spectrum.groupby("representation", sort=False):
        smooth = sub["r2"].rolling(9, center=True, min_periods=1).mean()
        ax.plot(sub["pc"], smooth, label=rep, lw=1.4)
    first = spectrum.drop_duplicates("pc").sort_values("pc")
    twin = ax.twinx()
    twin.plot(first["pc"], first["variance_share"].cumsum(), color="grey", ls="--", lw=1)
    twin.set_ylabel("cumulative share of variance (dashed)")
    twin.set_ylim(0, 1.02)
    ax.set_xscale("log")
    ax.set_ylim(-0.1, 1.0)
    ax.set_xlabel(f"{teacher} principal component (rank, log scale)")
    ax.set_ylabel("held-out R² (rolling mean of 9)")
    ax.set_title(f"What of {teacher} each representation recovers, by component")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


def report(summary: pd.DataFrame, bands: pd.DataFrame, teacher: str, command: str) -> str:
    wide = bands.pivot(index="representation", columns="pcs", values="mean_r2")
    wide = wide.loc[list(summary["representation"]), [b for b in dict.fromkeys(bands["pcs"])]]
    shares = bands.drop_duplicates("pcs").set_index("pcs")["variance_share"]
    wide.columns = [f"PCs {c} ({shares[c]:.0%} of variance)" for c in wide.columns]
    lines = [
        f"# Held-out probe of {teacher}, per principal component",
        "",
        f"`{command}`",
        "",
        f"{teacher}: {int(summary['pcs_for_90pct_variance'].iloc[0])} principal components "
        "hold 90% of its variance on the probe's training rows.",
        "",
        summary.drop(columns="pcs_for_90pct_variance").to_markdown(index=False, floatfmt=".3f"),
        "",
        "Mean held-out R² per band of components:",
        "",
        wide.to_markdown(floatfmt=".3f"),
        "",
        "![R² by component](spectrum.png)",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--teacher", default="minimol")
    parser.add_argument("--models", required=True, help="comma-separated representations")
    parser.add_argument("--test-fraction", type=float, default=1 / 3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/probe_spectrum"))
    args = parser.parse_args(argv)
    store = TeacherStore.open(args.store)
    smiles = list(store.smiles)
    T, t_ok = store.read_all(args.teacher)
    in_test = held_out_mask(len(smiles), args.test_fraction, args.seed)
    spectra, summaries, bands = [], [], []
    for spec in args.models.split(","):
        # another teacher of the store stands for itself with its stored rows
        is_stored = spec in store.teachers and spec != args.teacher
        X, x_ok = store.read_all(spec) if is_stored else get_representation(spec).embed(smiles)
        ok = x_ok & t_ok
        train, test = np.flatnonzero(ok & ~in_test), np.flatnonzero(ok & in_test)
        table, summary = probe_spectrum(X, T, train, test)
        heads = head_columns(spec, args.teacher, T.shape[1])
        summary["r2_own_head"] = np.nan if heads is None else affine_r2(X[:, heads], T, train, test)
        spectra.append(table.assign(representation=spec))
        summaries.append({"representation": spec, **summary})
        bands += band_rows(spec, table)
        print(f"{spec}: {summary}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    spectrum = pd.concat(spectra, ignore_index=True)
    spectrum.to_csv(args.out / "spectrum.csv", index=False)
    pd.DataFrame(bands).to_csv(args.out / "bands.csv", index=False)
    given = sys.argv[1:] if argv is None else argv
    command = "python benchmarks/checks/probe_spectrum.py " + " ".join(given)
    plot(spectrum, args.teacher, args.out / "spectrum.png")
    text = report(pd.DataFrame(summaries), pd.DataFrame(bands), args.teacher, command.strip())
    atomic_write_text(args.out / "README.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
