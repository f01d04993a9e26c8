"""The ``Backbone`` protocol: any student network the trainer can distil.

A backbone is a ``torch.nn.Module`` that turns a *collated batch* of raw items (SMILES for
molecules, strings for text, arrays for images) into embeddings ``[B, dim]``. ``collate`` runs
inside DataLoader workers, so it must be picklable and free of CUDA state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class Backbone(Protocol):
    """What the trainer needs from a student network.

    Attributes
    ----------
    dim
        Width of the embedding returned by ``forward``.
    config
        JSON-serialisable dict with everything :func:`build_backbone` needs to rebuild it,
        including ``{"name": <registry name>}``.
    """

    dim: int

    @property
    def config(self) -> dict[str, Any]: ...

    def collate(self, items: Sequence[Any]) -> Any:
        """Turn raw items into a batch accepted by ``forward`` (runs in loader workers)."""
        ...

    def forward(self, batch: Any) -> torch.Tensor:
        """Embed a collated batch: ``Tensor[B, dim]``."""
        ...


BackboneFactory = Callable[..., torch.nn.Module]
_REGISTRY: dict[str, BackboneFactory] = {}


def register_backbone(name: str) -> Callable[[BackboneFactory], BackboneFactory]:
    """Decorator registering a backbone class/factory under ``name``."""

    def deco(factory: BackboneFactory) -> BackboneFactory:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return deco


def build_backbone(config: dict[str, Any]) -> torch.nn.Module:
    """Build a backbone from its ``config`` (``config["name"]`` selects the class)."""
    _load_builtin_backbones()
    cfg = dict(config)
    name = cfg.pop("name", None)
    if name not in _REGISTRY:
        raise KeyError(f"unknown backbone {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name](**cfg)


def list_backbones() -> list[str]:
    _load_builtin_backbones()
    return sorted(_REGISTRY)


def _load_builtin_backbones() -> None:
    import importlib

    for module in ("gnn", "text", "vision"):
        try:
            importlib.import_module(f"molmtd.backbones.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"molmtd.backbones.{module}":
                raise
