"""Molecular graph neural network students (PyG) over OGB atom/bond features.

``torch_geometric`` is imported when a network is built, not when this module is imported
(registering the backbones stays cheap for text/vision users).

Registered backbones (``build_backbone({"name": ..., ...})``):

- ``"gine"`` (default student): GINE convolutions, bond features enter every message;
- ``"gin"``: GIN convolutions (atom features only);
- ``"gatv2"``: GATv2 attention with bond features as edge attributes;
- ``"graphsage"``: GraphSAGE mean aggregation (atom features only).

All share :class:`MolGNN`: an OGB-style atom encoder (:class:`FeatureEncoder`), ``num_layers`` message-passing layers of
width ``hidden`` (each followed by batch/layer norm, ReLU, dropout and an optional residual
connection), graph pooling (mean, sum or attention) of the last layer (``readout="last"``)
or of every layer concatenated (``readout="concat"``), and a linear projection to ``dim``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from molmtd.backbones.base import register_backbone
from molmtd.backbones.features import (
    ATOM_FEATURE_DIMS,
    BOND_FEATURE_DIMS,
    FeatureEncoder,
    GraphCollator,
)

CONVS = ("gine", "gin", "gatv2", "graphsage")
EDGE_CONVS = frozenset({"gine", "gatv2"})


def _mlp(width: int, ratio: float) -> nn.Sequential:
    inner = max(1, round(width * ratio))
    return nn.Sequential(nn.Linear(width, inner), nn.ReLU(), nn.Linear(inner, width))


class MolGNN(nn.Module):
    """Configurable message-passing GNN over OGB molecular graphs.

    Parameters
    ----------
    conv
        ``"gine"`` | ``"gin"`` | ``"gatv2"`` | ``"graphsage"`` (also the registry name).
    dim
        Width of the output embedding.
    hidden
        Node-state width.
    num_layers
        Number of message-passing layers.
    norm
        ``"batch"`` | ``"layer"`` | ``"none"`` after every convolution.
    pool
        ``"mean"`` | ``"sum"`` | ``"attention"`` (gated attention, one gate per pooled layer).
    readout
        ``"last"`` pools the last layer; ``"concat"`` concatenates the pooled node states of
        every layer before the projection.
    residual
        Add each layer's input to its output.
    dropout
        Dropout on node states after every layer.
    mlp_ratio
        Inner width of the GIN/GINE update MLP, as a multiple of ``hidden``.
    heads
        Attention heads for ``"gatv2"`` (``hidden`` must be divisible by it).
    cache_size
        Graphs cached per process by :attr:`collator` (0: no cache).
    """

    def __init__(
        self,
        conv: str = "gine",
        dim: int = 512,
        hidden: int = 300,
        num_layers: int = 5,
        norm: str = "batch",
        pool: str = "mean",
        readout: str = "last",
        residual: bool = True,
        dropout: float = 0.0,
        mlp_ratio: float = 2.0,
        heads: int = 4,
        cache_size: int = 0,
    ) -> None:
        super().__init__()
        if conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {conv!r}")
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")
        if pool not in ("mean", "sum", "attention"):
            raise ValueError(f"pool must be 'mean', 'sum' or 'attention', got {pool!r}")
        if readout not in ("last", "concat"):
            raise ValueError(f"readout must be 'last' or 'concat', got {readout!r}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if conv == "gatv2" and hidden % heads:
            raise ValueError(f"gatv2: hidden ({hidden}) must be divisible by heads ({heads})")
        self._config: dict[str, Any] = {
            "name": conv,
            "dim": int(dim),
            "hidden": int(hidden),
            "num_layers": int(num_layers),
            "norm": norm,
            "pool": pool,
            "readout": readout,
            "residual": bool(residual),
            "dropout": float(dropout),
            "mlp_ratio": float(mlp_ratio),
            "heads": int(heads),
            "cache_size": int(cache_size),
        }
        self.dim = int(dim)
        self.conv_type = conv
        self.residual = residual
        self.readout = readout
        self.pool_type = pool
        self.collator = GraphCollator(cache_size)

        self.atom_encoder = FeatureEncoder(ATOM_FEATURE_DIMS, hidden)
        self.bond_encoders = nn.ModuleList(
            [FeatureEncoder(BOND_FEATURE_DIMS, hidden) for _ in range(num_layers)]
            if conv in EDGE_CONVS
            else []
        )
        self.convs = nn.ModuleList(
            [self._make_conv(conv, hidden, mlp_ratio, heads) for _ in range(num_layers)]
        )
        self.norms = nn.ModuleList([self._make_norm(norm, hidden) for _ in range(num_layers)])
        self.dropout = nn.Dropout(dropout)
        n_pooled = num_layers if readout == "concat" else 1
        from torch_geometric.nn import AttentionalAggregation

        self.gates = nn.ModuleList(
            [AttentionalAggregation(nn.Linear(hidden, 1)) for _ in range(n_pooled)]
            if pool == "attention"
            else []
        )
        self.proj = nn.Linear(hidden * n_pooled, dim)

    @staticmethod
    def _make_conv(conv: str, hidden: int, mlp_ratio: float, heads: int) -> nn.Module:
        from torch_geometric.nn import GATv2Conv, GINConv, GINEConv, SAGEConv

        if conv == "gine":
            return GINEConv(_mlp(hidden, mlp_ratio), train_eps=True)
        if conv == "gin":
            return GINConv(_mlp(hidden, mlp_ratio), train_eps=True)
        if conv == "gatv2":
            return GATv2Conv(hidden, hidden // heads, heads=heads, edge_dim=hidden)
        return SAGEConv(hidden, hidden)

    @staticmethod
    def _make_norm(norm: str, hidden: int) -> nn.Module:
        if norm == "batch":
            return nn.BatchNorm1d(hidden)
        if norm == "layer":
            return nn.LayerNorm(hidden)
        return nn.Identity()

    @property
    def config(self) -> dict[str, Any]:
        """JSON-serialisable configuration; ``build_backbone(config)`` rebuilds the network."""
        return dict(self._config)

    def collate(self, items: Sequence[Any]) -> Any:
        """SMILES strings (or RDKit Mols) -> PyG ``Batch``; raises ``ValueError`` on bad input."""
        return self.collator(items)

    def _pool(self, h: Tensor, batch: Tensor, size: int, layer: int) -> Tensor:
        from torch_geometric.nn import global_add_pool, global_mean_pool

        if self.pool_type == "mean":
            return global_mean_pool(h, batch, size)
        if self.pool_type == "sum":
            return global_add_pool(h, batch, size)
        return self.gates[layer](h, batch, dim_size=size)

    def node_states(self, batch: Any) -> list[Tensor]:
        """Node states after every layer, ``[num_layers] x Tensor[n_nodes, hidden]``."""
        h = self.atom_encoder(batch.x)
        states = []
        fused = self.conv_type == "gine" and not torch.is_grad_enabled()
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            if fused and conv.lin is None:
                edge_attr = self.bond_encoders[i](batch.edge_attr)
                out = _gine_no_grad(conv, h, batch.edge_index, edge_attr)
            elif self.conv_type in EDGE_CONVS:
                out = conv(h, batch.edge_index, self.bond_encoders[i](batch.edge_attr))
            else:
                out = conv(h, batch.edge_index)
            out = self.dropout(torch.relu(norm(out)))
            h = h + out if self.residual else out
            states.append(h)
        return states

    def forward(self, batch: Any) -> Tensor:
        """Embed a collated batch of molecules: Tensor [num_graphs, dim]."""
        states = self.node_states(batch)
        size = int(batch.num_graphs)
        if self.readout == "last":
            pooled = self._pool(states[-1], batch.batch, size, 0)
        else:
            pooled = torch.cat(
                [self._pool(h, batch.batch, size, i) for i, h in enumerate(states)], dim=-1
            )
        return self.proj(pooled)

    def embed(self, items: Sequence[Any], batch_size: int = 256, **kwargs: Any) -> Any:
        """Embed raw items with this backbone (see :func:`molmtd.training.embed`)."""
        from molmtd.training.inference import embed

        return embed(self, items, batch_size=batch_size, **kwargs)


def _gine_no_grad(conv: nn.Module, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
    """PyG ``GINEConv.forward`` (no edge projection, sum aggregation) without autograd.

    The same operations in the same order, so the same numbers, but the messages are built
    in place and PyG's generic propagate machinery is skipped: faster at inference, where
    the edge-sized intermediates dominate memory traffic.
    """
    src, dst = edge_index[0], edge_index[1]
    messages = x.index_select(0, src).add_(edge_attr).relu_()  # relu(x_j + e_ij)
    aggregated = torch.zeros_like(x).index_add_(0, dst, messages)
    return conv.nn(aggregated + (1 + conv.eps) * x)


def _factory(conv: str):
    def build(**kwargs: Any) -> MolGNN:
        return MolGNN(conv=conv, **kwargs)

    build.__name__ = f"build_{conv}"
    build.__doc__ = f"Build a :class:`MolGNN` with ``conv={conv!r}``."
    return build


for _name in CONVS:
    register_backbone(_name)(_factory(_name))
