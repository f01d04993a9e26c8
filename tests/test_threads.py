"""Thread and process defaults that do not stall a loaded machine (``num_threads="auto"``)."""

from __future__ import annotations

import pytest
import torch

import molmtd.cpu as cpu
from molmtd import Featurizer
from molmtd.featurizer import InvalidParameterError

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]


def _threads_seen(featurizer: Featurizer, monkeypatch) -> list[int]:
    """torch's thread count inside each forward pass of ``featurizer``'s student."""
    seen: list[int] = []
    backbone = featurizer._backbone()
    backbone.register_forward_pre_hook(lambda *a: seen.append(torch.get_num_threads()))
    featurizer.transform(SMILES)
    return seen


@pytest.mark.parametrize(("idle", "expected"), [(0.1, 1), (0.9, 1), (1.6, 2), (7.0, 2)])
def test_auto_uses_one_thread_per_idle_core(monkeypatch, idle, expected):
    monkeypatch.setattr(cpu, "idle_cores", lambda sample_seconds=0.1: idle)
    monkeypatch.setattr(cpu, "usable_cores", lambda: 2)
    before = torch.get_num_threads()
    seen = _threads_seen(Featurizer(precision="float32"), monkeypatch)
    assert seen and set(seen) == {expected}
    assert torch.get_num_threads() == before  # restored after the call


def test_fixed_and_unchanged_thread_counts(monkeypatch):
    torch.set_num_threads(2)
    assert set(_threads_seen(Featurizer(precision="float32", num_threads=1), monkeypatch)) == {1}
    assert set(_threads_seen(Featurizer(precision="float32", num_threads=None), monkeypatch)) == {2}


def test_auto_measures_once_then_reuses(monkeypatch):
    calls = []
    monkeypatch.setattr(cpu, "auto_threads", lambda: calls.append(1) or 1)
    featurizer = Featurizer(precision="float32")
    for _ in range(3):
        featurizer.transform(SMILES)
    assert len(calls) == 1


def test_n_jobs_auto_is_the_idle_core_count_for_large_inputs(monkeypatch):
    monkeypatch.setattr(cpu, "auto_threads", lambda: 2)
    featurizer = Featurizer(n_jobs="auto")
    featurizer._threads(600)
    assert featurizer._n_jobs(600) == 2 and featurizer._n_jobs(100) == 1


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, True])
def test_bad_thread_counts_are_refused(value):
    with pytest.raises(InvalidParameterError, match="num_threads"):
        Featurizer(num_threads=value).check_params()


def test_idle_cores_reads_this_machine():
    idle = cpu.idle_cores(0.05)
    assert 0.0 <= idle <= cpu.usable_cores() + 1e-6
    assert 1 <= cpu.auto_threads() <= cpu.usable_cores()
