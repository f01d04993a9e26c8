"""Synthetic problems with known answers, used by the tests and ``make demo``.

1. :func:`gaussian_mi_experiment`: jointly Gaussian ``(S, T)`` with ``T = A S + eps``,
   ``eps ~ N(0, diag(sigma^2))``. Then ``H(T|S) = sum_d 0.5 log(2 pi e sigma_d^2)`` and
   ``I(S;T) = H(T) - H(T|S)`` with ``H(T) = 0.5 log det(2 pi e (A A^T + diag sigma^2))``.
   A Gaussian kernel trained by maximum likelihood must recover both.
2. :func:`two_teacher_experiment`: a latent ``z = (z1, z2)`` is observed through a nonlinear
   mixing ``x = g(z)``; teacher 1 sees ``z1``, teacher 2 sees ``z2`` through heteroscedastic
   noise (very noisy on a subset of samples). A student ``x -> s`` is distilled from both
   teachers; linear probes on ``s`` measure how much of ``z1`` and ``z2`` it recovered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from molmtd.loss import LOG_2PI, build_loss


@dataclass
class GaussianMIResult:
    """Analytic and estimated entropies (nats) in raw target units, on held-out samples."""

    h_t_given_s_true: float
    h_t_given_s_est: float
    mi_true: float
    mi_est: float
    d_teacher: int


def gaussian_mi_experiment(
    d_student: int = 4,
    d_teacher: int = 6,
    n_train: int = 20_000,
    n_test: int = 5_000,
    steps: int = 1_500,
    batch_size: int = 512,
    lr: float = 3e-3,
    seed: int = 0,
) -> GaussianMIResult:
    """Fit a Gaussian kernel on jointly Gaussian data and compare with the analytic values."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(d_teacher, d_student, generator=gen)
    sigma = torch.linspace(0.2, 1.5, d_teacher)

    def sample(n: int) -> tuple[Tensor, Tensor]:
        s = torch.randn(n, d_student, generator=gen)
        t = s @ a.T + sigma * torch.randn(n, d_teacher, generator=gen)
        return s, t

    s_train, t_train = sample(n_train)
    s_test, t_test = sample(n_test)

    loss_fn = build_loss("nll", d_student, {"t": d_teacher}, hidden=64, n_layers=2)
    loss_fn.fit_target_statistics({"t": t_train})
    torch.manual_seed(seed)
    opt = torch.optim.Adam(loss_fn.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn.train()
    for _ in range(steps):
        idx = torch.randint(0, n_train, (batch_size,), generator=gen)
        out = loss_fn(s_train[idx], {"t": t_train[idx]})
        opt.zero_grad()
        out.total.backward()
        opt.step()
        sched.step()

    loss_fn.eval()
    with torch.no_grad():
        out = loss_fn(s_test, {"t": t_test})
    # The NLL lives in normalised units; shift it back by the log-Jacobian of the scaling.
    log_scale = float(loss_fn.normalizers["t"].std.log().sum())
    h_cond_true = float((0.5 * (1.0 + LOG_2PI) + sigma.log()).sum())
    cov_t = a @ a.T + torch.diag(sigma**2)
    h_t = 0.5 * (d_teacher * (1.0 + LOG_2PI) + float(torch.logdet(cov_t)))
    return GaussianMIResult(
        h_t_given_s_true=h_cond_true,
        h_t_given_s_est=float(out.per_teacher["t"]) + log_scale,
        mi_true=h_t - h_cond_true,
        mi_est=float(out.mi["t"]),
        d_teacher=d_teacher,
    )


@dataclass
class ToyData:
    """Inputs, latent halves and two teachers' embeddings."""

    x: Tensor
    z1: Tensor
    z2: Tensor
    teacher1: Tensor
    teacher2: Tensor


def make_two_teacher_data(
    n: int,
    d_latent: int = 4,
    d_input: int = 32,
    d_teacher: int = 16,
    noise_clean: float = 0.1,
    noise_loud: float = 4.0,
    loud_fraction: float = 0.5,
    seed: int = 0,
) -> ToyData:
    """Two teachers seeing different halves of a latent signal.

    Teacher 2 is heteroscedastic: on ``loud_fraction`` of the samples (those where a
    coordinate of ``z1`` is large, so the student can tell which ones) its noise has standard
    deviation ``noise_loud`` instead of ``noise_clean``.
    """
    gen = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d_latent, generator=gen)
    z2 = torch.randn(n, d_latent, generator=gen)
    z = torch.cat([z1, z2], dim=1)
    mix = torch.randn(2 * d_latent, d_input, generator=gen) / math.sqrt(2 * d_latent)
    x = torch.tanh(z @ mix) + 0.3 * (z @ mix) + 0.05 * torch.randn(n, d_input, generator=gen)
    w1 = torch.randn(d_latent, d_teacher, generator=gen) / math.sqrt(d_latent)
    w2 = torch.randn(d_latent, d_teacher, generator=gen) / math.sqrt(d_latent)
    teacher1 = torch.sin(z1 @ w1) + z1 @ w1 + noise_clean * torch.randn(n, d_teacher, generator=gen)
    threshold = torch.quantile(z1[:, 0], 1.0 - loud_fraction)
    loud = (z1[:, 0] > threshold).float()[:, None]
    noise2 = noise_clean + (noise_loud - noise_clean) * loud
    teacher2 = torch.sin(z2 @ w2) + z2 @ w2 + noise2 * torch.randn(n, d_teacher, generator=gen)
    return ToyData(x=x, z1=z1, z2=z2, teacher1=teacher1, teacher2=teacher2)


def linear_probe_r2(features: Tensor, target: Tensor, n_train: int) -> float:
    """R² of a ridge probe fitted on the first ``n_train`` rows, scored on the rest."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    f, y = features.numpy(), target.numpy()
    probe = Ridge(alpha=1e-3).fit(f[:n_train], y[:n_train])
    return float(r2_score(y[n_train:], probe.predict(f[n_train:])))


def parse_loss_spec(spec: str) -> tuple[str, dict[str, float]]:
    """``"beta-nll:beta=1.0"`` -> ``("beta-nll", {"beta": 1.0})``; a bare name has no kwargs.

    Several keyword arguments are separated by ``;`` (``"nll:beta=1;hidden=64"``).
    """
    name, _, rest = spec.partition(":")
    kwargs: dict[str, float] = {}
    for item in filter(None, rest.split(";")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"loss spec {spec!r}: expected key=value after ':', got {item!r}")
        kwargs[key.strip()] = float(value)
    return name, kwargs


def distill_mlp_student(
    data: ToyData,
    loss: str,
    n_train: int,
    d_student: int = 16,
    steps: int = 600,
    batch_size: int = 256,
    lr: float = 2e-3,
    seed: int = 0,
) -> nn.Module:
    """Distil an MLP student ``x -> s`` from both teachers with the given loss."""
    torch.manual_seed(seed)
    d_input = data.x.shape[1]
    student = nn.Sequential(
        nn.Linear(d_input, 128),
        nn.ReLU(),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Linear(128, d_student),
    )
    dims = {"teacher1": data.teacher1.shape[1], "teacher2": data.teacher2.shape[1]}
    name, kwargs = parse_loss_spec(loss)
    kwargs = {"hidden": 128, **kwargs}
    if name in ("nll", "beta-nll"):
        kwargs.setdefault("n_layers", 2)
    loss_fn = build_loss(name, d_student, dims, **kwargs)
    x, t1, t2 = data.x[:n_train], data.teacher1[:n_train], data.teacher2[:n_train]
    loss_fn.fit_target_statistics({"teacher1": t1, "teacher2": t2})
    params = list(student.parameters()) + list(loss_fn.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, n_train, (batch_size,), generator=gen)
        out = loss_fn(student(x[idx]), {"teacher1": t1[idx], "teacher2": t2[idx]})
        opt.zero_grad()
        out.total.backward()
        opt.step()
        sched.step()
    return student.eval()


def two_teacher_experiment(
    losses: tuple[str, ...] = ("nll", "mse", "cosine"),
    n: int = 12_000,
    steps: int = 600,
    seeds: tuple[int, ...] = (0,),
    noise_loud: float = 4.0,
) -> dict[str, dict[str, float]]:
    """Probe R² on both latent halves for students trained with each loss (mean over seeds).

    Students are trained on the first half of the samples; probes are fitted on the first
    half of the rest and scored on the last quarter (never on the distillation data).
    """
    results: dict[str, dict[str, list[float]]] = {}
    for seed in seeds:
        data = make_two_teacher_data(n, noise_loud=noise_loud, seed=seed)
        n_distil = n // 2
        n_probe = n // 4
        for loss in (*losses, "random"):
            if loss == "random":
                student = distill_mlp_student(data, "mse", n_distil, steps=0, seed=seed)
            else:
                student = distill_mlp_student(data, loss, n_distil, steps=steps, seed=seed)
            with torch.no_grad():
                s = student(data.x[n_distil:])
            res = results.setdefault(loss, {"r2_z1": [], "r2_z2": []})
            res["r2_z1"].append(linear_probe_r2(s, data.z1[n_distil:], n_probe))
            res["r2_z2"].append(linear_probe_r2(s, data.z2[n_distil:], n_probe))
    return {k: {m: float(np.mean(v)) for m, v in res.items()} for k, res in results.items()}
