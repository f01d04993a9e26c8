"""Typed likelihoods (Bernoulli kernels for bits), kernel input norm, student-only clipping."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D

from molmtd.loss import (
    BernoulliKernel,
    GaussianKernel,
    KernelNLLLoss,
    binary_entropy,
    build_loss,
    infer_likelihoods,
)


def test_bernoulli_kernel_log_prob_matches_torch_distributions() -> None:
    torch.manual_seed(0)
    kernel = BernoulliKernel(d_student=5, d_teacher=9, hidden=16)
    s = torch.randn(13, 5)
    t = (torch.rand(13, 9) < 0.3).float()
    expected = D.Independent(D.Bernoulli(logits=kernel(s)), 1).log_prob(t)
    torch.testing.assert_close(kernel.log_prob(t, s), expected, rtol=1e-5, atol=1e-5)


def test_bernoulli_teacher_cannot_go_below_zero_nats_per_bit() -> None:
    """A Gaussian on z-scored rare bits reaches large negative NLLs; a Bernoulli cannot."""
    torch.manual_seed(0)
    counts = torch.zeros(512, 64)
    counts[:5, :] = torch.log1p(torch.tensor(2.0))  # rare bits: 5 of 512 rows
    s = torch.randn(512, 8)
    for kind in ("gaussian", "bernoulli"):
        loss = build_loss(
            "nll", 8, {"fp": 64}, likelihoods={"fp": kind}, hidden=32, max_log_precision=7.0
        )
        loss.fit_target_statistics({"fp": counts})
        opt = torch.optim.Adam(loss.parameters(), lr=1e-2)
        for _ in range(150):
            out = loss(s, {"fp": counts})
            opt.zero_grad()
            out.total.backward()
            opt.step()
        nll = float(out.per_teacher["fp"])
        if kind == "bernoulli":
            assert nll >= 0.0
        else:
            assert nll < -64.0  # the pathology: > 1 nat per near-constant dimension


def test_bernoulli_mi_uses_bit_entropies_and_masks_constant_bits() -> None:
    t = torch.zeros(100, 3)
    t[:30, 0] = 1.0  # p = 0.3
    t[:, 1] = 2.0  # always on: inactive
    loss = KernelNLLLoss(4, {"fp": 3}, likelihoods={"fp": "bernoulli"}, hidden=8)
    loss.fit_target_statistics({"fp": t})
    norm = loss.normalizers["fp"]
    assert norm.active.tolist() == [True, False, False]
    assert float(norm.marginal_entropy()) == pytest.approx(float(binary_entropy(torch.tensor(0.3))))
    out = loss(torch.randn(100, 4), {"fp": t})
    assert float(out.mi["fp"]) == pytest.approx(
        float(norm.marginal_entropy()) - float(out.per_teacher["fp"]), abs=1e-5
    )


def test_masked_rows_give_zero_gradient_with_bernoulli_kernels() -> None:
    torch.manual_seed(0)
    loss = KernelNLLLoss(6, {"fp": 10}, likelihoods={"fp": "bernoulli"}, hidden=16)
    t = (torch.rand(8, 10) < 0.4).float()
    t[3] = float("nan")
    mask = torch.ones(8, dtype=torch.bool)
    mask[3] = False
    s = torch.randn(8, 6, requires_grad=True)
    loss(s, {"fp": t}, {"fp": mask}).total.backward()
    assert torch.all(s.grad[3] == 0)
    assert torch.all(torch.isfinite(s.grad))
    assert float(s.grad[0].abs().sum()) > 0


def test_infer_likelihoods_by_teacher_type() -> None:
    torch.manual_seed(0)
    bits = (torch.rand(200, 50) < 0.1).float()
    counts = torch.log1p(torch.poisson(torch.full((200, 50), 0.2)))
    dense = torch.randn(200, 20)
    positive_dense = torch.rand(200, 20) + 0.1
    got = infer_likelihoods({"bits": bits, "counts": counts, "dense": dense, "pos": positive_dense})
    assert got == {
        "bits": "bernoulli",
        "counts": "bernoulli",
        "dense": "gaussian",
        "pos": "gaussian",
    }


def test_unknown_likelihood_and_unresolved_auto_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown likelihood"):
        KernelNLLLoss(4, {"a": 3}, likelihoods={"a": "poisson"})
    with pytest.raises(ValueError, match="infer_likelihoods"):
        KernelNLLLoss(4, {"a": 3}, likelihoods="auto")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown teachers"):
        KernelNLLLoss(4, {"a": 3}, likelihoods={"b": "bernoulli"})


def test_input_norm_makes_the_kernel_invariant_to_the_scale_of_s() -> None:
    torch.manual_seed(0)
    s, t = torch.randn(7, 5), torch.randn(7, 3)
    with_norm = GaussianKernel(5, 3, hidden=16, input_norm=True)
    torch.testing.assert_close(with_norm.log_prob(t, s), with_norm.log_prob(t, 10.0 * s))
    without = GaussianKernel(5, 3, hidden=16)
    assert not torch.allclose(without.log_prob(t, s), without.log_prob(t, 10.0 * s))


def test_tight_precision_bound_caps_the_nats_per_dimension() -> None:
    kernel = GaussianKernel(2, 4, hidden=8, max_log_precision=2.0)
    with torch.no_grad():
        kernel.net[-1].bias[4:] = 100.0  # push log-precision to its bound
        kernel.net[-1].weight.zero_()
        kernel.net[-1].bias[:4] = 0.0
    log_p = kernel.log_prob(torch.zeros(3, 4), torch.zeros(3, 2))
    per_dim_cap = 0.5 * (2.0 - math.log(2 * math.pi))
    assert torch.all(log_p <= 4 * per_dim_cap + 1e-5)
