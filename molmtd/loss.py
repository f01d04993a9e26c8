"""The task-agnostic multi-teacher distillation objective.

For every teacher ``k`` a Gaussian *kernel* head predicts the (normalised) teacher embedding
``t_k`` from the student embedding ``s``; the student and the kernels minimise

.. math::

    \\mathcal{L}(s) = \\sum_k w_k \\, \\big[-\\log \\mathcal{N}(t_k \\mid \\mu_k(s),
    \\operatorname{diag} \\sigma_k(s)^2)\\big]

(Formont et al., NeurIPS 2025). The expected NLL upper-bounds the conditional entropy
``H(T_k | S)``, so ``H(T_k) - NLL_k`` is a variational lower bound on the mutual information
``I(T_k; S)`` (with ``H(T_k)`` taken from a Gaussian fitted on the normalised targets, the
estimate is exact for Gaussian teachers and an approximation otherwise).

The MSE and cosine baselines share the interface (:class:`DistillationLoss`) so the trainer
swaps objectives by name (:func:`build_loss`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

LOG_2PI = math.log(2.0 * math.pi)

WeightSpec = Literal["inverse_dim", "uniform"] | Mapping[str, float]
Likelihood = Literal["gaussian", "bernoulli"]
LIKELIHOODS: tuple[str, ...] = ("gaussian", "bernoulli")


@dataclass
class LossOutput:
    """Result of a distillation loss evaluation.

    Attributes
    ----------
    total
        Scalar to back-propagate: ``sum_k w_k * per_teacher[k]``.
    per_teacher
        Unweighted loss of each teacher, averaged over the samples where it is valid
        (for ``"nll"``: negative log-likelihood in nats per molecule, normalised target space).
    mi
        Per-teacher mutual-information estimate ``H(T_k) - NLL_k`` in nats (``"nll"`` only).
    n_valid
        Number of samples in the batch where each teacher is valid.
    """

    total: Tensor
    per_teacher: dict[str, Tensor] = field(default_factory=dict)
    mi: dict[str, Tensor] = field(default_factory=dict)
    n_valid: dict[str, int] = field(default_factory=dict)


def mlp(
    d_in: int, d_out: int, hidden: int, n_layers: int, input_norm: bool = False
) -> nn.Sequential:
    """``n_layers`` Linear layers; hidden ones are followed by LayerNorm and ReLU.

    With ``input_norm`` a LayerNorm is applied to the input first, as in the authors' kernels
    (emir's feed-forward): every head then sees ``s`` at the same scale, so the student cannot
    trade the scale of its embedding against a kernel's precision.
    """
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers}")
    layers: list[nn.Module] = [nn.LayerNorm(d_in)] if input_norm else []
    width = d_in
    for _ in range(n_layers - 1):
        layers += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, d_out))
    return nn.Sequential(*layers)


class GaussianKernel(nn.Module):
    """Conditional diagonal Gaussian (or Gaussian mixture) ``p(t | s)``.

    Parameters
    ----------
    d_student, d_teacher
        Widths of the student embedding ``s`` and of the teacher embedding ``t``.
    hidden, n_layers
        Width and depth of the MLP from ``s`` to the Gaussian parameters.
    n_modes
        Number of mixture components (1: a single Gaussian).
    max_log_precision
        The per-dimension log-precision is squashed into ``(-max, +max)`` with a scaled tanh,
        which bounds the NLL from below and keeps gradients finite. Each dimension can gain at
        most ``(max - log 2 pi) / 2`` nats below a unit-variance fit: 2.6 nats at 7, 0.08 at 2.
    input_norm
        LayerNorm on ``s`` at the kernel input (see :func:`mlp`).
    """

    def __init__(
        self,
        d_student: int,
        d_teacher: int,
        hidden: int = 512,
        n_layers: int = 3,
        n_modes: int = 1,
        max_log_precision: float = 7.0,
        input_norm: bool = False,
    ) -> None:
        super().__init__()
        if n_modes < 1:
            raise ValueError(f"n_modes must be >= 1, got {n_modes}")
        self.d_student = d_student
        self.d_teacher = d_teacher
        self.n_modes = n_modes
        self.max_log_precision = max_log_precision
        n_out = n_modes * 2 * d_teacher + (n_modes if n_modes > 1 else 0)
        self.net = mlp(d_student, n_out, hidden, n_layers, input_norm)

    def forward(self, s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Gaussian parameters for each sample.

        Returns
        -------
        mean, log_precision : Tensor [B, n_modes, d_teacher]
        log_weights : Tensor [B, n_modes] (log-softmax of the mixture logits; zeros if 1 mode)
        """
        batch = s.shape[0]
        out = self.net(s)
        m, d = self.n_modes, self.d_teacher
        mean = out[:, : m * d].reshape(batch, m, d)
        raw = out[:, m * d : 2 * m * d].reshape(batch, m, d)
        log_precision = self.max_log_precision * torch.tanh(raw / self.max_log_precision)
        if m > 1:
            log_weights = torch.log_softmax(out[:, 2 * m * d :], dim=-1)
        else:
            log_weights = out.new_zeros(batch, 1)
        return mean, log_precision, log_weights

    def log_prob(
        self, t: Tensor, s: Tensor, dim_mask: Tensor | None = None, beta: float = 0.0
    ) -> Tensor:
        """``log p(t | s)`` per sample, Tensor [B].

        ``dim_mask`` (bool [d_teacher]) restricts the density to the selected dimensions
        (used to skip teacher dimensions that are constant on the corpus).

        ``beta > 0`` gives the *gradient* of beta-NLL (Seitzer et al., ICLR 2022): each
        dimension's term is weighted by ``stop_grad(sigma^(2 beta))``, so dimensions the
        kernel declares noisy are not abandoned early in training. The returned *value* is
        still the exact log-likelihood (the reweighting only enters through a zero-valued
        ``x - x.detach()`` term), so NLL, MI estimates and checkpoint selection are unchanged.
        Single-Gaussian kernels only.
        """
        mean, log_precision, log_weights = self(s)
        per_dim = 0.5 * (
            log_precision - LOG_2PI - log_precision.exp() * (t[:, None, :] - mean) ** 2
        )
        if dim_mask is not None:
            per_dim = per_dim * dim_mask.to(per_dim.dtype)
        log_p = torch.logsumexp(log_weights + per_dim.sum(-1), dim=-1)
        if beta == 0.0:
            return log_p
        if self.n_modes != 1:
            raise ValueError(f"beta-NLL needs a single-Gaussian kernel, got n_modes={self.n_modes}")
        weighted = (per_dim * torch.exp(-beta * log_precision.detach())).sum(-1)[:, 0]
        return log_p.detach() + (weighted - weighted.detach())


class BernoulliKernel(nn.Module):
    """Conditional independent Bernoulli ``p(t | s)`` for binary targets (bits present/absent).

    The authors' own MI estimator switches to a discrete kernel for {0, 1} targets; a Gaussian
    on z-scored sparse bits lets a kernel win thousands of nats by sharpening near-constant
    dimensions. A bit's term here is a log-loss, at most ``log 2`` nats at a coin-flip
    prediction, and its gradient never exceeds 1 in the logit.

    Parameters
    ----------
    d_student, d_teacher, hidden, n_layers, input_norm
        As for :class:`GaussianKernel`; the MLP outputs one logit per teacher dimension.
    """

    def __init__(
        self,
        d_student: int,
        d_teacher: int,
        hidden: int = 512,
        n_layers: int = 3,
        input_norm: bool = False,
    ) -> None:
        super().__init__()
        self.d_student = d_student
        self.d_teacher = d_teacher
        self.net = mlp(d_student, d_teacher, hidden, n_layers, input_norm)

    def forward(self, s: Tensor) -> Tensor:
        """Logits of ``P(t_j = 1 | s)``: Tensor [B, d_teacher]."""
        return self.net(s)

    def log_prob(
        self, t: Tensor, s: Tensor, dim_mask: Tensor | None = None, beta: float = 0.0
    ) -> Tensor:
        """``log p(t | s)`` per sample for ``t`` in {0, 1}: Tensor [B] (``beta`` is ignored)."""
        logits = self(s)
        per_dim = -nn.functional.binary_cross_entropy_with_logits(logits, t, reduction="none")
        if dim_mask is not None:
            per_dim = per_dim * dim_mask.to(per_dim.dtype)
        return per_dim.sum(-1)


def _check_fit_rows(t: Tensor) -> None:
    if t.shape[0] < 2:
        raise ValueError(f"need at least 2 valid rows to fit target statistics, got {t.shape[0]}")


def binary_entropy(p: Tensor) -> Tensor:
    """Entropy (nats) of Bernoulli variables with success probabilities ``p``."""
    p = p.double().clamp(1e-12, 1.0 - 1e-12)
    return -(p * p.log() + (1.0 - p) * (1.0 - p).log())


class BinaryTargets(nn.Module):
    """Presence bits of one teacher's targets (``t > 0``), with per-bit frequencies.

    Bits that never or always fire in the statistics sample are inactive (nothing to learn).
    The marginal entropy is that of independent bits, an upper bound on the joint entropy, so
    ``H - NLL`` over-estimates the mutual information by the bits' total correlation.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("frequency", torch.full((dim,), 0.5))
        self.register_buffer("active", torch.ones(dim, dtype=torch.bool))
        self.register_buffer("entropy", torch.tensor(float("nan")))
        self.register_buffer("fitted", torch.tensor(False))

    @torch.no_grad()
    def fit(self, t: Tensor) -> None:
        """Fit bit frequencies and the marginal entropy on valid rows ``t``."""
        _check_fit_rows(t)
        p = (t > 0).double().mean(0)
        active = (p > 0) & (p < 1)
        self.frequency.copy_(p.float())
        self.active.copy_(active)
        self.entropy.copy_(binary_entropy(p[active]).sum().float())
        self.fitted.fill_(True)

    @torch.no_grad()
    def update(self, t: Tensor) -> None:
        """No running statistics: bits need none to be learned (kept for the interface)."""

    def forward(self, t: Tensor) -> Tensor:
        return (t > 0).to(t.dtype)

    def marginal_entropy(self) -> Tensor:
        if bool(self.fitted):
            return self.entropy
        return torch.tensor(float(self.active.sum()) * math.log(2.0))


def infer_likelihoods(
    targets: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
) -> dict[str, str]:
    """Pick each teacher's likelihood from a sample of its targets.

    ``"bernoulli"`` (on presence bits) for a teacher whose valid values are all non-negative
    and at least half zeros: binary keys (MACCS) and sparse count fingerprints (Morgan,
    atom pairs, torsions, Avalon, ErG); ``"gaussian"`` for everything else (descriptors,
    neural and 3D embeddings).
    """
    out: dict[str, str] = {}
    for name, t in targets.items():
        t = torch.as_tensor(t, dtype=torch.float32)
        if masks is not None and name in masks:
            t = t[torch.as_tensor(masks[name], dtype=torch.bool)]
        out[name] = "bernoulli" if is_sparse_nonnegative(t) else "gaussian"
    return out


def is_sparse_nonnegative(t: Tensor) -> bool:
    """True when the finite rows of ``t`` [N, d] are all >= 0 and at least half zeros."""
    t = torch.as_tensor(t, dtype=torch.float32)
    t = t[torch.isfinite(t).all(1)]
    return t.numel() > 0 and bool((t >= 0).all()) and float((t == 0).float().mean()) >= 0.5


class TargetNormalizer(nn.Module):
    """Per-dimension standardisation of one teacher's targets.

    Statistics are fitted once from a sample (:meth:`fit`) — the trainer does this from the
    teacher store — or, if never fitted, initialised from the first training batch and then
    tracked with an exponential moving average. Dimensions whose standard deviation is below
    ``min_std`` are flagged inactive (constant on the corpus: nothing to learn).
    Standardised values are clipped to ``[-clip, clip]``: a rare fingerprint bit (std 0.01)
    would otherwise become a z-score of 100 on the molecule that has it, and a single such
    value dominates a Gaussian NLL.
    """

    def __init__(
        self,
        dim: int,
        momentum: float = 0.01,
        min_std: float = 1e-4,
        entropy_ridge: float = 1e-3,
        clip: float | None = 5.0,
    ) -> None:
        super().__init__()
        self.clip = clip
        self.momentum = momentum
        self.entropy_ridge = entropy_ridge
        self.min_std = min_std
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("active", torch.ones(dim, dtype=torch.bool))
        self.register_buffer("entropy", torch.tensor(float("nan")))
        self.register_buffer("fitted", torch.tensor(False))
        self.register_buffer("initialised", torch.tensor(False))

    @torch.no_grad()
    def fit(self, t: Tensor) -> None:
        """Fit mean/std and the Gaussian entropy of the normalised targets on valid rows ``t``."""
        _check_fit_rows(t)
        t = t.double()
        mean = t.mean(0)
        std = t.std(0)
        active = std > self.min_std
        self.mean.copy_(mean.float())
        self.std.copy_(torch.where(active, std, torch.ones_like(std)).float())
        self.active.copy_(active)
        z = ((t - mean) / self.std.double())[:, active]
        if self.clip is not None:
            z = z.clamp(-self.clip, self.clip)
        self.entropy.copy_(gaussian_entropy(z, ridge=self.entropy_ridge))
        self.fitted.fill_(True)
        self.initialised.fill_(True)

    @torch.no_grad()
    def update(self, t: Tensor) -> None:
        """Running update from a training batch of valid rows (only when never fitted)."""
        if bool(self.fitted) or t.shape[0] < 2:
            return
        mean, std = t.mean(0), t.std(0).clamp_min(self.min_std)
        if not bool(self.initialised):
            self.mean.copy_(mean)
            self.std.copy_(std)
            self.initialised.fill_(True)
        else:
            self.mean.lerp_(mean, self.momentum)
            self.std.lerp_(std, self.momentum)

    def forward(self, t: Tensor) -> Tensor:
        z = (t - self.mean) / self.std
        return z if self.clip is None else z.clamp(-self.clip, self.clip)

    def marginal_entropy(self) -> Tensor:
        """Entropy of the normalised targets: fitted Gaussian, else a diagonal unit Gaussian."""
        if bool(self.fitted):
            return self.entropy
        d = int(self.active.sum())
        return torch.tensor(0.5 * d * (1.0 + LOG_2PI))


def gaussian_entropy(x: Tensor, ridge: float = 1e-6) -> Tensor:
    """Differential entropy (nats) of a full-covariance Gaussian fitted on rows of ``x``.

    A small ridge keeps the covariance positive definite for rank-deficient samples
    (e.g. more dimensions than rows); the entropy of those is then strongly negative, which
    is the honest answer for nearly degenerate targets.
    """
    n, d = x.shape
    if d == 0:
        return torch.tensor(0.0)
    xc = x - x.mean(0)
    cov = xc.T @ xc / max(n - 1, 1) + ridge * torch.eye(d, dtype=x.dtype)
    _, logdet = torch.linalg.slogdet(cov)
    return (0.5 * (d * (1.0 + LOG_2PI) + logdet)).float()


class DistillationLoss(nn.Module):
    """Base class: per-teacher normalisation, weighting, masking and input validation.

    Parameters
    ----------
    d_student
        Width of the student embedding.
    teacher_dims
        ``{teacher name: embedding width}``.
    weights
        ``"inverse_dim"`` (default for NLL: scale teacher k by ``1/d_k`` so wide teachers do
        not dominate), ``"uniform"``, or an explicit ``{name: weight}`` mapping.
    normalize
        Standardise targets per teacher and dimension before the loss.
    target_clip
        Clip standardised targets to ``[-target_clip, target_clip]`` (None: no clipping).
    likelihoods
        ``{teacher: "gaussian" | "bernoulli"}`` (missing teachers: Gaussian). A Bernoulli
        teacher's targets become presence bits ``t > 0`` instead of z-scores.
    """

    name: str = "base"

    def __init__(
        self,
        d_student: int,
        teacher_dims: Mapping[str, int],
        weights: WeightSpec = "inverse_dim",
        normalize: bool = True,
        target_clip: float | None = 5.0,
        likelihoods: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        if not teacher_dims:
            raise ValueError("teacher_dims is empty: need at least one teacher")
        for tname, dim in teacher_dims.items():
            if int(dim) < 1:
                raise ValueError(f"teacher {tname!r}: dimension must be >= 1, got {dim}")
        self.d_student = int(d_student)
        self.teacher_dims = {k: int(v) for k, v in teacher_dims.items()}
        self.normalize = normalize
        self.weights = self._resolve_weights(weights)
        self.likelihoods = self._resolve_likelihoods(likelihoods)
        # The entropy ridge matches the kernels' precision bound (variance >= exp(-7)), so
        # H(T) - NLL compares like with like on near-degenerate (e.g. binary) teachers.
        self.normalizers = nn.ModuleDict(
            {
                k: BinaryTargets(d)
                if self.likelihoods[k] == "bernoulli"
                else TargetNormalizer(d, entropy_ridge=math.exp(-7.0), clip=target_clip)
                for k, d in self.teacher_dims.items()
            }
        )

    def _normalizes(self, name: str) -> bool:
        """Whether teacher ``name``'s targets go through its normaliser (always for bits)."""
        return self.normalize or self.likelihoods[name] == "bernoulli"

    def _resolve_likelihoods(self, likelihoods: Mapping[str, str] | None) -> dict[str, str]:
        if likelihoods is None:
            return dict.fromkeys(self.teacher_dims, "gaussian")
        if isinstance(likelihoods, str):
            raise ValueError(
                f"likelihoods must be a {{teacher: kind}} mapping, got {likelihoods!r} "
                "(resolve 'auto' with infer_likelihoods first)"
            )
        extra = set(likelihoods) - set(self.teacher_dims)
        if extra:
            raise ValueError(f"likelihoods name unknown teachers {sorted(extra)}")
        out = {k: str(likelihoods.get(k, "gaussian")) for k in self.teacher_dims}
        bad = {k: v for k, v in out.items() if v not in LIKELIHOODS}
        if bad:
            raise ValueError(f"unknown likelihood(s) {bad}; choose from {list(LIKELIHOODS)}")
        return out

    def _resolve_weights(self, weights: WeightSpec) -> dict[str, float]:
        if weights == "inverse_dim":
            return {k: 1.0 / d for k, d in self.teacher_dims.items()}
        if weights == "uniform":
            return dict.fromkeys(self.teacher_dims, 1.0)
        if isinstance(weights, Mapping):
            missing = set(self.teacher_dims) - set(weights)
            extra = set(weights) - set(self.teacher_dims)
            if missing or extra:
                raise ValueError(
                    f"weights must name exactly the teachers {sorted(self.teacher_dims)}; "
                    f"missing {sorted(missing)}, unknown {sorted(extra)}"
                )
            return {k: float(weights[k]) for k in self.teacher_dims}
        raise ValueError(f"weights must be 'inverse_dim', 'uniform' or a mapping, got {weights!r}")

    @torch.no_grad()
    def fit_target_statistics(
        self,
        targets: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
    ) -> None:
        """Fit each teacher's normaliser (and marginal entropy) from a sample of targets."""
        self._check_names(targets)
        for name, t in targets.items():
            t = torch.as_tensor(t, dtype=torch.float32)
            mask = self._resolve_mask(
                name, t, None if masks is None else masks.get(name), t.shape[0]
            )
            self.normalizers[name].fit(t[mask])

    def _check_names(self, targets: Mapping[str, Tensor]) -> None:
        unknown = set(targets) - set(self.teacher_dims)
        if unknown:
            raise KeyError(
                f"targets for unknown teacher(s) {sorted(unknown)}; "
                f"this loss was built for {sorted(self.teacher_dims)}"
            )

    def _resolve_mask(self, name: str, t: Tensor, mask: Tensor | None, batch: int) -> Tensor:
        dim = self.teacher_dims[name]
        if t.ndim != 2 or t.shape[1] != dim:
            raise ValueError(
                f"teacher {name!r}: expected targets of shape [{batch}, {dim}], "
                f"got {tuple(t.shape)}"
            )
        if t.shape[0] != batch:
            raise ValueError(
                f"teacher {name!r}: batch size mismatch, student has {batch} rows, "
                f"targets have {t.shape[0]}"
            )
        finite = torch.isfinite(t).all(dim=1)
        if mask is None:
            mask = torch.ones(batch, dtype=torch.bool, device=t.device)
        else:
            mask = torch.as_tensor(mask, dtype=torch.bool, device=t.device)
            if mask.shape != (batch,):
                raise ValueError(
                    f"teacher {name!r}: mask must have shape [{batch}], got {tuple(mask.shape)}"
                )
        bad = mask & ~finite
        if bool(bad.any()):
            rows = torch.nonzero(bad).flatten()[:10].tolist()
            what = "all targets are non-finite" if not bool(finite.any()) else "non-finite targets"
            raise ValueError(
                f"teacher {name!r}: {what} in rows marked valid (first rows: {rows}); "
                f"mark missing embeddings invalid in the mask"
            )
        return mask

    def forward(
        self,
        s: Tensor,
        targets: Mapping[str, Tensor],
        masks: Mapping[str, Tensor] | None = None,
    ) -> LossOutput:
        """Evaluate the loss on a batch.

        Parameters
        ----------
        s
            Student embeddings, Tensor [B, d_student].
        targets
            ``{teacher: Tensor [B, d_k]}``; a teacher may be absent from a batch.
        masks
            ``{teacher: bool Tensor [B]}``; False rows contribute zero loss and zero gradient.
            Rows marked valid must be finite.
        """
        if s.ndim != 2 or s.shape[1] != self.d_student:
            raise ValueError(
                f"student embedding must have shape [B, {self.d_student}], got {tuple(s.shape)}"
            )
        self._check_names(targets)
        batch = s.shape[0]
        total = s.new_zeros(())
        out = LossOutput(total=total)
        for name, t in targets.items():
            t = torch.as_tensor(t, dtype=s.dtype, device=s.device)
            mask = self._resolve_mask(name, t, None if masks is None else masks.get(name), batch)
            n_valid = int(mask.sum())
            out.n_valid[name] = n_valid
            normalizer = self.normalizers[name]
            if self.training:
                normalizer.update(t[mask])
            # Invalid rows are replaced by zeros *before* any arithmetic so that NaN never
            # reaches the graph (NaN * 0 would still poison the gradients).
            t_clean = torch.where(mask[:, None], t, torch.zeros_like(t))
            z = normalizer(t_clean) if self._normalizes(name) else t_clean
            per_sample = self.per_sample_loss(name, s, z)
            per_sample = torch.where(mask, per_sample, torch.zeros_like(per_sample))
            loss_k = per_sample.sum() / max(n_valid, 1)
            out.per_teacher[name] = loss_k.detach()
            self.add_diagnostics(out, name, loss_k.detach())
            total = total + self.weights[name] * loss_k
        out.total = total
        return out

    def per_sample_loss(self, name: str, s: Tensor, z: Tensor) -> Tensor:
        """Loss of each sample for teacher ``name`` on normalised targets ``z``: Tensor [B]."""
        raise NotImplementedError

    def add_diagnostics(self, out: LossOutput, name: str, loss: Tensor) -> None:
        """Hook for per-teacher diagnostics (MI for the NLL loss)."""


class KernelNLLLoss(DistillationLoss):
    """Sum of per-teacher Gaussian-kernel negative log-likelihoods (the molmtd objective).

    Extra parameters are passed to every :class:`GaussianKernel` (``hidden``, ``n_layers``,
    ``n_modes``, ``max_log_precision``, ``input_norm``). ``beta > 0`` trains with beta-NLL
    gradients while reporting the exact NLL (see :meth:`GaussianKernel.log_prob`). Teachers
    whose ``likelihoods`` entry is ``"bernoulli"`` get a :class:`BernoulliKernel` on their
    presence bits instead.
    """

    name = "nll"

    def __init__(
        self,
        d_student: int,
        teacher_dims: Mapping[str, int],
        weights: WeightSpec = "inverse_dim",
        normalize: bool = True,
        hidden: int = 512,
        n_layers: int = 3,
        n_modes: int = 1,
        max_log_precision: float = 7.0,
        target_clip: float | None = 5.0,
        beta: float = 0.0,
        likelihoods: Mapping[str, str] | None = None,
        input_norm: bool = False,
    ) -> None:
        super().__init__(d_student, teacher_dims, weights, normalize, target_clip, likelihoods)
        if beta < 0.0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        if beta > 0.0 and n_modes != 1:
            raise ValueError(f"beta-NLL needs n_modes=1, got n_modes={n_modes}")
        self.beta = float(beta)
        self.kernels = nn.ModuleDict(
            {
                k: BernoulliKernel(d_student, d, hidden, n_layers, input_norm)
                if self.likelihoods[k] == "bernoulli"
                else GaussianKernel(
                    d_student, d, hidden, n_layers, n_modes, max_log_precision, input_norm
                )
                for k, d in self.teacher_dims.items()
            }
        )

    def per_sample_loss(self, name: str, s: Tensor, z: Tensor) -> Tensor:
        active = self.normalizers[name].active if self._normalizes(name) else None
        return -self.kernels[name].log_prob(z, s, dim_mask=active, beta=self.beta)

    def add_diagnostics(self, out: LossOutput, name: str, loss: Tensor) -> None:
        if self.normalize:
            h = self.normalizers[name].marginal_entropy().to(loss.device)
            out.mi[name] = h - loss


class BetaNLLLoss(KernelNLLLoss):
    """:class:`KernelNLLLoss` with beta-NLL gradients, ``beta=0.5`` by default."""

    name = "beta-nll"

    def __init__(self, *args: object, beta: float = 0.5, **kwargs: object) -> None:
        super().__init__(*args, beta=beta, **kwargs)  # type: ignore[arg-type]


def prediction_head(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    """Linear-ReLU-Linear: the per-teacher head of the MSE and cosine objectives.

    :class:`molmtd.backbones.gnn.MolGNN` builds its ``teacher_heads`` with it too, so an
    exported head (``molmtd.training.checkpoint.export_student``) loads key for key.
    """
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class MSELoss(DistillationLoss):
    """Baseline: mean squared error of a per-teacher projection head (Linear-ReLU-Linear)."""

    name = "mse"

    def __init__(
        self,
        d_student: int,
        teacher_dims: Mapping[str, int],
        weights: WeightSpec = "uniform",
        normalize: bool = True,
        hidden: int = 512,
        target_clip: float | None = 5.0,
    ) -> None:
        super().__init__(d_student, teacher_dims, weights, normalize, target_clip)
        self.heads = nn.ModuleDict(
            {k: prediction_head(d_student, hidden, d) for k, d in self.teacher_dims.items()}
        )

    def per_sample_loss(self, name: str, s: Tensor, z: Tensor) -> Tensor:
        return ((self.heads[name](s) - z) ** 2).mean(-1)


class CosineLoss(MSELoss):
    """Baseline: ``1 - cos(head(s), t)`` with a per-teacher projection head."""

    name = "cosine"

    def per_sample_loss(self, name: str, s: Tensor, z: Tensor) -> Tensor:
        return 1.0 - nn.functional.cosine_similarity(self.heads[name](s), z, dim=-1, eps=1e-8)


LOSSES: dict[str, type[DistillationLoss]] = {
    "nll": KernelNLLLoss,
    "beta-nll": BetaNLLLoss,
    "mse": MSELoss,
    "cosine": CosineLoss,
}


def build_loss(
    name: str, d_student: int, teacher_dims: Mapping[str, int], **kwargs: object
) -> DistillationLoss:
    """Build a distillation objective by name: ``"nll"`` | ``"beta-nll"`` | ``"mse"`` | ``"cosine"``."""
    if name not in LOSSES:
        raise KeyError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name](d_student, teacher_dims, **kwargs)  # type: ignore[arg-type]
