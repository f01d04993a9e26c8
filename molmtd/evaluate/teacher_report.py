"""What a student knows of each teacher: held-out linear probes and kernel diagnostics.

For a frozen embedding ``X`` (a student, a control or any representation) and the teacher
embeddings ``T_k`` of the same held-out molecules (a :class:`~molmtd.store.TeacherStore`
built on molecules the students never saw), this module measures

- the **linear-probe R²** of each teacher: a ridge regression ``X -> T_k`` fitted on part of
  the molecules and scored on the rest, per teacher dimension after z-scoring with the
  training part's statistics; summarised as the pooled R² (one minus the summed squared error
  over the summed variance: dimensions count by their held-out variance) and the median over
  dimensions. For rdkit2d it is also reported per descriptor group;
- for a training run whose checkpoint keeps its kernels (``loss.*`` tensors): the kernels'
  held-out **NLL** and **MI estimate** ``H(T_k) - NLL_k`` per teacher, and the distribution of
  the Gaussian kernels' predicted **log-precisions** (quantiles and the share of dimensions
  within 5% of the bound), which shows where a kernel buys nats by sharpening.

The row builders at the end (:func:`probe_row`, :func:`descriptor_group_rows`,
:func:`student_kernel_rows`) give the rows of the report's tables, which
:mod:`molmtd.evaluate.teacher_tables` assembles and ``molmtd report-teachers`` writes with a
heatmap. This module imports numpy, scikit-learn, torch and molmtd's loss.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 5, 15))

# rdkit2d descriptor groups: first matching pattern wins (names as RDKit's Descriptors list).
DESCRIPTOR_GROUPS: tuple[tuple[str, str], ...] = (
    ("fragment counts (fr_*)", r"^fr_"),
    ("surface-area contributions (*VSA*)", r"VSA"),
    ("BCUT2D eigenvalues", r"^BCUT2D"),
    ("partial charges and E-states", r"Charge|EState|^Max|^Min"),
    ("topological indices (Chi, Kappa, ...)", r"^Chi|^Kappa|HallKier|Balaban|Bertz|^Ipc|^AvgIpc"),
    (
        "atom, ring and group counts",
        r"^Num|Ring|HeavyAtomCount|NHOH|NOCount|FractionCSP3|^qed$|^SPS$",
    ),
    ("size and physchem (MolWt, LogP, MR, TPSA, ...)", r"Wt|LogP|MolMR|TPSA|LabuteASA|Fpdensity"),
)


def descriptor_group(name: str) -> str:
    """The :data:`DESCRIPTOR_GROUPS` label of an RDKit descriptor name (``"other"`` if none)."""
    for label, pattern in DESCRIPTOR_GROUPS:
        if re.search(pattern, name):
            return label
    return "other"


@dataclass
class ProbeResult:
    """Held-out linear-probe fit of one teacher.

    Attributes
    ----------
    r2_pooled
        ``1 - sum SSE / sum SST`` over the scored dimensions (z-scored targets).
    r2_median
        Median of the per-dimension R².
    r2_per_dim
        R² of each scored dimension (NaN for dimensions that were not scored).
    n_train, n_test, n_dims
        Rows used to fit and to score; dimensions scored (non-constant on both parts).
    alpha
        Ridge penalty chosen by generalised cross-validation on the training part.
    sse, sst
        Held-out squared error and total sum of squares of each dimension (NaN where not
        scored), to pool R² over any group of dimensions (:func:`pooled_r2`).
    """

    r2_pooled: float
    r2_median: float
    r2_per_dim: np.ndarray
    n_train: int
    n_test: int
    n_dims: int
    alpha: float
    sse: np.ndarray
    sst: np.ndarray


def pooled_r2(result: ProbeResult, dims: np.ndarray) -> float:
    """Pooled held-out R² over the scored dimensions among ``dims`` (NaN if none)."""
    sse, sst = result.sse[dims], result.sst[dims]
    ok = np.isfinite(sse)
    if not ok.any():
        return float("nan")
    return float(1.0 - sse[ok].sum() / sst[ok].sum())


def split_rows(
    n: int, test_fraction: float = 1 / 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n)`` into sorted (train, test) index arrays."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_test = round(n * test_fraction)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def held_out_mask(n: int, test_fraction: float = 1 / 3, seed: int = 0) -> np.ndarray:
    """Bool mask of the rows :func:`split_rows` holds out for testing."""
    _, test = split_rows(n, test_fraction, seed)
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return mask


def linear_probe(
    X: np.ndarray,
    T: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    alphas: Sequence[float] = RIDGE_ALPHAS,
    min_std: float = 1e-6,
) -> ProbeResult:
    """Fit ridge ``X -> T`` on ``train`` rows and score R² per dimension on ``test`` rows.

    Inputs are standardised with the training rows' statistics; so are the targets, and a
    target dimension constant on the training or test rows is not scored.
    """
    from sklearn.linear_model import RidgeCV

    X = np.asarray(X, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    x_mean, x_std = X[train].mean(0), X[train].std(0)
    x_std[x_std < min_std] = 1.0
    Xs = (X - x_mean) / x_std
    t_mean, t_std = T[train].mean(0), T[train].std(0)
    scored = (t_std > min_std) & (T[test].std(0) > min_std)
    r2 = np.full(T.shape[1], np.nan)
    sse, sst = r2.copy(), r2.copy()
    if not scored.any():
        nan = float("nan")
        return ProbeResult(nan, nan, r2, len(train), len(test), 0, nan, sse, sst)
    Z = (T[:, scored] - t_mean[scored]) / t_std[scored]
    ridge = RidgeCV(alphas=tuple(alphas)).fit(Xs[train], Z[train])
    pred = ridge.predict(Xs[test])
    resid = ((Z[test] - pred) ** 2).sum(0)
    total = ((Z[test] - Z[test].mean(0)) ** 2).sum(0)
    r2[scored] = 1.0 - resid / total
    sse[scored], sst[scored] = resid, total
    return ProbeResult(
        r2_pooled=float(1.0 - resid.sum() / total.sum()),
        r2_median=float(np.median(r2[scored])),
        r2_per_dim=r2,
        n_train=len(train),
        n_test=len(test),
        n_dims=int(scored.sum()),
        alpha=float(ridge.alpha_),
        sse=sse,
        sst=sst,
    )


def kernel_checkpoint(path: str | Path) -> Path | None:
    """The checkpoint directory of a run that keeps its loss heads, or None.

    A run directory resolves to its best checkpoint (``checkpoints/latest.json``); a
    checkpoint directory is used as it is. Shipped models keep only the backbone: None.
    """
    path = Path(path)
    pointer = path / "checkpoints" / "latest.json"
    if pointer.is_file():
        best = json.loads(pointer.read_text()).get("best")
        if best:
            path = path / "checkpoints" / best
    weights = path / "model.safetensors"
    if not (weights.is_file() and (path / "meta.json").is_file()):
        return None
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        if not any(k.startswith("loss.") for k in f.keys()):
            return None
    return path


def load_loss(checkpoint: Path) -> tuple[Any, dict[str, Any]]:
    """Rebuild a checkpoint's distillation loss (kernels and target statistics)."""
    from safetensors.torch import load_file

    from molmtd.loss import build_loss

    meta = json.loads((checkpoint / "meta.json").read_text())
    dims = {k: int(v["dim"]) for k, v in meta["teachers"].items()}
    loss = build_loss(meta["loss"]["name"], int(meta["dim"]), dims, **meta["loss"]["kwargs"])
    tensors = load_file(str(checkpoint / "model.safetensors"))
    state = {k[len("loss.") :]: v for k, v in tensors.items() if k.startswith("loss.")}
    loss.load_state_dict(state)
    return loss.eval(), meta


@torch.no_grad()
def kernel_diagnostics(
    loss: Any,
    student: np.ndarray,
    targets: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    batch_size: int = 512,
) -> dict[str, dict[str, float]]:
    """Held-out NLL, MI estimate and log-precision distribution of each kernel.

    ``student`` holds the student's embeddings of the same rows as ``targets``; rows where the
    student or the teacher is missing are left out.
    """
    from molmtd.loss import GaussianKernel

    out: dict[str, dict[str, float]] = {}
    ok_student = np.isfinite(student).all(1)
    names = [n for n in targets if n in getattr(loss, "teacher_dims", {})]
    for name in names:
        rows = np.flatnonzero(ok_student & masks[name])
        if len(rows) == 0:
            continue
        nll_sum, log_precisions = 0.0, []
        kernels = getattr(loss, "kernels", None)
        kernel = kernels[name] if kernels is not None and name in kernels else None
        for start in range(0, len(rows), batch_size):
            idx = rows[start : start + batch_size]
            s = torch.from_numpy(student[idx].astype(np.float32))
            t = torch.from_numpy(targets[name][idx].astype(np.float32))
            res = loss(s, {name: t})
            nll_sum += float(res.per_teacher[name]) * len(idx)
            if isinstance(kernel, GaussianKernel):
                _, log_prec, _ = kernel(s)
                active = loss.normalizers[name].active
                log_precisions.append(log_prec[:, 0, :][:, active].reshape(-1).numpy())
        nll = nll_sum / len(rows)
        record: dict[str, float] = {"n_rows": float(len(rows)), "kernel_nll": nll}
        if hasattr(loss, "kernels"):
            entropy = float(loss.normalizers[name].marginal_entropy())
            record["kernel_mi"] = entropy - nll
        if log_precisions:
            lp = np.concatenate(log_precisions)
            bound = float(kernel.max_log_precision)
            record |= {
                "log_precision_q05": float(np.quantile(lp, 0.05)),
                "log_precision_q50": float(np.quantile(lp, 0.50)),
                "log_precision_q95": float(np.quantile(lp, 0.95)),
                "share_at_bound": float(np.mean(np.abs(lp) > 0.95 * bound)),
            }
        out[name] = record
    return out


# ---------------------------------------------------------------------------------------------
# Rows of the report's tables (probe.csv, rdkit2d_groups.csv, kernels.csv)
# ---------------------------------------------------------------------------------------------


def teacher_kinds(data: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, str]:
    """``"sparse"`` or ``"dense"`` per teacher, from its (embeddings, mask) of the store.

    Sparse: the teachers a ``likelihoods="auto"`` run gives Bernoulli kernels.
    """
    from molmtd.loss import is_sparse_nonnegative

    return {
        name: "sparse" if is_sparse_nonnegative(torch.from_numpy(T[ok])) else "dense"
        for name, (T, ok) in data.items()
    }


def probe_row(
    representation: str, teacher: str, family: str | None, kind: str, result: ProbeResult
) -> dict[str, Any]:
    """One row of ``probe.csv``: the held-out linear probe of ``teacher`` from a representation."""
    return {
        "representation": representation,
        "teacher": teacher,
        "family": family,
        "kind": kind,
        "dims_scored": result.n_dims,
        "n_train": result.n_train,
        "n_test": result.n_test,
        "r2_pooled": result.r2_pooled,
        "r2_median": result.r2_median,
        "ridge_alpha": result.alpha,
    }


def descriptor_group_rows(
    representation: str, result: ProbeResult, descriptor_names: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows of ``rdkit2d_groups.csv``: pooled R² of each descriptor group, in first-seen order.

    ``result`` is the probe of the rdkit2d teacher whose dimensions are ``descriptor_names``.
    """
    groups = np.array([descriptor_group(d) for d in descriptor_names])
    rows = []
    for group in dict.fromkeys(groups):
        dims = np.flatnonzero(groups == group)
        rows.append(
            {
                "representation": representation,
                "group": group,
                "n_descriptors": len(dims),
                "r2_pooled": pooled_r2(result, dims),
            }
        )
    return rows


def student_kernel_rows(
    representation: str,
    X: np.ndarray,
    rows: np.ndarray,
    data: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> list[dict[str, Any]]:
    """Rows of ``kernels.csv`` for a ``student:`` run whose checkpoint keeps its kernels.

    Parameters
    ----------
    representation
        The model spec; anything but a ``student:`` run with kernels gives no rows.
    X
        Its embeddings of the store's molecules.
    rows
        Bool mask of the rows to score (held out and embedded).
    data
        Per teacher: (embeddings, mask) of the store's molecules.
    """
    if not representation.startswith("student:"):
        return []
    checkpoint = kernel_checkpoint(representation.split(":", 1)[1])
    if checkpoint is None:
        return []
    loss, _ = load_loss(checkpoint)
    diag = kernel_diagnostics(
        loss,
        np.where(rows[:, None], X, np.nan),
        {n: T for n, (T, _) in data.items()},
        {n: ok & rows for n, (_, ok) in data.items()},
    )
    return [
        {
            "representation": representation,
            "teacher": name,
            # a baseline's "kernel_nll" is its head's held-out loss (MSE, cosine)
            "likelihood": loss.likelihoods.get(name, "gaussian")
            if hasattr(loss, "kernels")
            else f"{loss.name} head",
            **record,
        }
        for name, record in diag.items()
    ]
