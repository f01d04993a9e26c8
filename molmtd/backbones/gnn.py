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
connection), graph pooling of the last layer (``readout="last"``) or of every layer
concatenated (``readout="concat"``), and a linear projection to ``dim``.

Pooling is ``"mean"``, ``"sum"``, ``"max"``, ``"attention"`` or several joined by ``+``
(``"mean+sum"`` concatenates both). A mean cannot express extensive quantities (molecular
weight, atom and fragment counts) linearly; a sum can, and is divided by ``sum_scale``
(a typical heavy-atom count) so that its scale matches the mean's and training is stable.
``rw_steps > 0`` adds random-walk return probabilities (the diagonal of the 1..k-step
transition matrices, a cheap structural encoding) to the atom features.

``teacher_heads`` appends, after the ``dim``-wide embedding, each teacher's prediction of
its own standardised embedding from it (the distillation's Linear-ReLU-Linear projection
heads, copied from the training checkpoint by
:func:`molmtd.training.checkpoint.export_student`): the rows are then
``[embedding, head_1(embedding), head_2(embedding), ...]``.
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
from molmtd.loss import prediction_head

CONVS = ("gine", "gin", "gatv2", "graphsage")
POOLS = ("mean", "sum", "max", "attention")
#: Divisor of sum pooling: about the mean heavy-atom count of drug-like molecules.
DEFAULT_SUM_SCALE = 32.0
EDGE_CONVS = frozenset({"gine", "gatv2"})


def _mlp(width: int, ratio: float) -> nn.Sequential:
    inner = max(1, round(width * ratio))
    return nn.Sequential(nn.Linear(width, inner), nn.ReLU(), nn.Linear(inner, width))


def _checked_pools(
    conv: str, norm: str, pool: str, sum_scale: float, rw_steps: int, readout: str, num_layers: int
) -> tuple[str, ...]:
    """The pools named by ``pool`` (``"mean+sum"`` -> ``("mean", "sum")``), options checked."""
    if conv not in CONVS:
        raise ValueError(f"conv must be one of {CONVS}, got {conv!r}")
    if norm not in ("batch", "layer", "none"):
        raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")
    pools = tuple(pool.split("+"))
    if not pools or any(p not in POOLS for p in pools) or len(set(pools)) < len(pools):
        raise ValueError(f"pool must be one or more of {POOLS} joined by '+', got {pool!r}")
    if sum_scale <= 0:
        raise ValueError(f"sum_scale must be > 0, got {sum_scale}")
    if rw_steps < 0:
        raise ValueError(f"rw_steps must be >= 0, got {rw_steps}")
    if readout not in ("last", "concat"):
        raise ValueError(f"readout must be 'last' or 'concat', got {readout!r}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}")
    return pools


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
        ``"mean"`` | ``"sum"`` | ``"max"`` | ``"attention"`` (gated attention, one gate per
        pooled layer), or several joined by ``+`` (concatenated, e.g. ``"mean+sum"``).
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
    sum_scale
        Divisor of sum pooling (keeps a sum on the mean's scale; extensive all the same).
    rw_steps
        Random-walk return probabilities of 1..``rw_steps`` steps added to the atom
        features through a linear encoder (0: none).
    teacher_heads
        ``[[teacher, width], ...]``: one Linear-ReLU-Linear head per teacher whose output is
        appended to the embedding (None: the rows are the embedding alone).
    head_hidden
        Hidden width of the teacher heads.
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
        sum_scale: float = DEFAULT_SUM_SCALE,
        rw_steps: int = 0,
        teacher_heads: Sequence[Sequence[Any]] | None = None,
        head_hidden: int = 512,
    ) -> None:
        super().__init__()
        pools = _checked_pools(conv, norm, pool, sum_scale, rw_steps, readout, num_layers)
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
        # Written only when they matter, so configs of earlier students read back unchanged.
        if "sum" in pools:
            self._config["sum_scale"] = float(sum_scale)
        if rw_steps:
            self._config["rw_steps"] = int(rw_steps)
        head_specs = [(str(name), int(width)) for name, width in teacher_heads or ()]
        if head_specs:
            self._config["teacher_heads"] = [[name, width] for name, width in head_specs]
            self._config["head_hidden"] = int(head_hidden)
        self.pools = pools
        self.sum_scale = float(sum_scale)
        self.rw_steps = int(rw_steps)
        #: width of the embedding; ``dim`` is the width of the rows (embedding + heads)
        self.embedding_dim = int(dim)
        self.dim = int(dim) + sum(width for _, width in head_specs)
        self.conv_type = conv
        self.residual = residual
        self.readout = readout
        self.pool_type = pool
        self.collator = GraphCollator(cache_size)

        self.atom_encoder = FeatureEncoder(ATOM_FEATURE_DIMS, hidden)
        self.rw_encoder = nn.Linear(rw_steps, hidden) if rw_steps else None
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
            if "attention" in pools
            else []
        )
        self.proj = nn.Linear(hidden * n_pooled * len(pools), dim)
        self.teacher_heads = self._make_heads(dim, head_hidden, head_specs)

    @staticmethod
    def _make_heads(dim: int, hidden: int, heads: list[tuple[str, int]]) -> nn.ModuleDict:
        """One :func:`molmtd.loss.prediction_head` per ``(teacher, width)``, in order."""
        return nn.ModuleDict({name: prediction_head(dim, hidden, width) for name, width in heads})

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

    def _pool_one(self, kind: str, h: Tensor, batch: Tensor, size: int, layer: int) -> Tensor:
        from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

        if kind == "mean":
            return global_mean_pool(h, batch, size)
        if kind == "sum":
            return global_add_pool(h, batch, size) / self.sum_scale
        if kind == "max":
            return global_max_pool(h, batch, size)
        return self.gates[layer](h, batch, dim_size=size)

    def _pool(self, h: Tensor, batch: Tensor, size: int, layer: int) -> Tensor:
        if len(self.pools) == 1:
            return self._pool_one(self.pools[0], h, batch, size, layer)
        return torch.cat([self._pool_one(k, h, batch, size, layer) for k in self.pools], dim=-1)

    def node_states(self, batch: Any) -> list[Tensor]:
        """Node states after every layer, ``[num_layers] x Tensor[n_nodes, hidden]``."""
        h = self.atom_encoder(batch.x)
        if self.rw_encoder is not None:
            rw = random_walk_return_probs(
                batch.edge_index, batch.batch, int(batch.num_graphs), self.rw_steps
            )
            h = h + self.rw_encoder(rw.to(h.dtype))
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
        return self.rows(self.proj(pooled))

    def rows(self, embedding: Tensor) -> Tensor:
        """The output rows of an embedding: itself, then every teacher head's prediction."""
        if not len(self.teacher_heads):
            return embedding
        return torch.cat(
            [embedding, *(head(embedding) for head in self.teacher_heads.values())], -1
        )

    def embed(self, items: Sequence[Any], batch_size: int = 256, **kwargs: Any) -> Any:
        """Embed raw items with this backbone (see :func:`molmtd.backbones.batching.embed`)."""
        from molmtd.backbones.batching import embed

        return embed(self, items, batch_size=batch_size, **kwargs)


def random_walk_return_probs(
    edge_index: Tensor, batch: Tensor, num_graphs: int, steps: int
) -> Tensor:
    """Return probabilities of 1..``steps``-step random walks, per node.

    Entry ``[v, k-1]`` is ``(P^k)[v, v]`` with ``P = D^-1 A`` the transition matrix of the
    node's own molecule (0 for an isolated atom). Computed with dense matrix powers per
    molecule, molecules grouped by padded size (powers of two), so one large molecule does
    not pad the whole batch.

    Returns
    -------
    Tensor [n_nodes, steps], float32.
    """
    with torch.autocast(batch.device.type, enabled=False):  # probabilities in float32 always
        return _return_probs(edge_index, batch, num_graphs, steps)


def _return_probs(edge_index: Tensor, batch: Tensor, num_graphs: int, steps: int) -> Tensor:
    n_nodes = batch.numel()
    out = torch.zeros(n_nodes, steps, device=batch.device)
    if n_nodes == 0 or steps == 0:
        return out
    sizes = torch.bincount(batch, minlength=num_graphs)
    starts = torch.cumsum(sizes, 0) - sizes
    local = torch.arange(n_nodes, device=batch.device) - starts[batch]
    src, dst = edge_index[0], edge_index[1]
    weight = 1.0 / torch.bincount(src, minlength=n_nodes).clamp(min=1).float()
    caps = torch.clamp(sizes, min=1).float().log2().ceil().exp2().long().clamp(min=8)
    for cap in torch.unique(caps).tolist():
        in_group = caps == cap
        slot = torch.cumsum(in_group.long(), 0) - 1
        nodes = torch.nonzero(in_group[batch]).squeeze(1)
        edges = torch.nonzero(in_group[batch[src]]).squeeze(1)
        P = torch.zeros(int(in_group.sum()), cap, cap, device=batch.device)
        e_src = src[edges]
        P[slot[batch[e_src]], local[e_src], local[dst[edges]]] = weight[e_src]
        power = P
        node_slot, node_local = slot[batch[nodes]], local[nodes]
        for k in range(steps):
            out[nodes, k] = power[node_slot, node_local, node_local]
            if k + 1 < steps:
                power = power @ P
    return out


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
