"""Training logs: the per-step CSV log (kill-safe on resume) and the learning-curve plot.

Imports only the standard library, pandas/matplotlib (lazily) and molmtd's atomic writer.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from molmtd.utils import atomic_open, atomic_write_text


class CsvLog:
    """Append-only CSV log (rank 0); rows after a resumed checkpoint are dropped first."""

    def __init__(self, path: Path, teachers: list[str], enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self.fields = ["time", "step", "epoch", "split", "lr", "loss", "mol_per_s"]
        for k in teachers:
            self.fields += [f"{k}/loss", f"{k}/mi"]

    def truncate_after(self, step: int) -> None:
        if not self.enabled or not self.path.is_file():
            return
        with open(self.path, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= step]
        text = _csv_text(self.fields, rows)
        atomic_write_text(self.path, text)

    def write(self, step: int, epoch: int, split: str, lr: float, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        new = not self.path.is_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        row = {
            "time": f"{time.time():.3f}",
            "step": step,
            "epoch": epoch,
            "split": split,
            "lr": f"{lr:.6g}",
        }
        row.update(
            {
                k: (f"{v:.6g}" if isinstance(v, float) else v)
                for k, v in values.items()
                if k in self.fields
            }
        )
        with open(self.path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.fields)
            if new:
                writer.writeheader()
            writer.writerow(row)


def _csv_text(fields: list[str], rows: list[dict[str, Any]]) -> str:
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def plot_curves(log_csv: Path, out_png: Path) -> Path | None:
    """Plot per-teacher validation loss (NLL) and MI estimates against the step."""
    import pandas as pd

    if not Path(log_csv).is_file():
        return None
    df = pd.read_csv(log_csv)
    val = df[df["split"] == "val"]
    if val.empty:
        return None
    from matplotlib.figure import Figure

    teachers = [c[: -len("/loss")] for c in df.columns if c.endswith("/loss")]
    has_mi = any(val[f"{k}/mi"].notna().any() for k in teachers)
    fig = Figure(figsize=(11 if has_mi else 6, 4))
    axes = fig.subplots(1, 2 if has_mi else 1, squeeze=False)
    for k in teachers:
        axes[0, 0].plot(val["step"], val[f"{k}/loss"], marker="o", ms=3, label=k)
        if has_mi:
            axes[0, 1].plot(val["step"], val[f"{k}/mi"], marker="o", ms=3, label=k)
    axes[0, 0].set(
        xlabel="step", ylabel="validation loss per teacher (NLL, nats)", title="per-teacher loss"
    )
    if has_mi:
        axes[0, 1].set(xlabel="step", ylabel="I(T_k; S) estimate (nats)", title="H(T_k) - NLL_k")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_open(out_png) as fh:
        fig.savefig(fh, dpi=100, format="png")
    return Path(out_png)
