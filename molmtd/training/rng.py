"""The random-number state a training checkpoint keeps, so that a resumed run draws the same.

Role: capture and restore the generators a training step may draw from (torch's CPU and CUDA
generators, NumPy's legacy global generator, Python's :mod:`random`), gathered from every rank
under DDP, as tensors, numbers and lists (``state.pt`` is read back with
``weights_only=True``). Imports only NumPy and torch.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_state(device: torch.device) -> dict[str, Any]:
    """This process's RNG state (with the CUDA generator of ``device`` when it is a GPU)."""
    np_state = np.random.get_state()  # noqa: NPY002 (global legacy RNG of user code)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": _py_state_to_list(random.getstate()),
    }
    if torch.cuda.is_available() and device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Restore a state from :func:`rng_state` (its CUDA part only on a GPU ``device``)."""
    torch.set_rng_state(state["torch"].cpu())
    npst = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (
            "MT19937",
            npst["keys"].numpy().astype(np.uint32),
            npst["pos"],
            npst["has_gauss"],
            npst["cached_gaussian"],
        )
    )
    random.setstate(_py_state_from_list(state["python"]))
    if "cuda" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def gather_rng_states(device: torch.device, world: int) -> list[dict[str, Any]]:
    """Every rank's :func:`rng_state`, in rank order (a collective call under DDP)."""
    own = rng_state(device)
    if world == 1:
        return [own]
    import torch.distributed as dist

    out: list[Any] = [None] * world
    dist.all_gather_object(out, own)
    return out


def _py_state_to_list(state: tuple) -> list[Any]:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _py_state_from_list(state: list[Any]) -> tuple:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
