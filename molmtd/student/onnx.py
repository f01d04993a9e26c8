"""Export a GNN student to ONNX and run it with ONNX Runtime (inference without torch).

>>> from molmtd.student.onnx import export_onnx, OnnxStudent
>>> path = export_onnx("default", "student.onnx")  # doctest: +SKIP
>>> rows = OnnxStudent(path).run(graphs)  # doctest: +SKIP

The exported graph takes the batched OGB features as plain integer arrays (see
:func:`onnx_inputs`), so running it needs only ``numpy`` and ``onnxruntime``: no torch, no
PyG. Supported students: :class:`molmtd.backbones.gnn.MolGNN` with ``conv="gine"`` (the
shipped models), mean or sum pooling or both (``"mean+sum"``), with or without random-walk
return probabilities (``rw_steps``; computed in numpy by :func:`onnx_inputs` and passed as
the ``rw`` input).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molmtd.backbones.batching import eval_mode
from molmtd.backbones.features import smiles_to_graph
from molmtd.backbones.gnn import MolGNN
from molmtd.student.cards import ModelFileError
from molmtd.student.loading import load_student
from molmtd.student.shipped import model_dir

INPUT_NAMES = ("x", "edge_index", "edge_attr", "batch", "graph_sizes")
RW_INPUT = "rw"
EXPORTABLE_POOLS = ("mean", "sum")


def input_names(rw_steps: int) -> tuple[str, ...]:
    """The exported graph's inputs: :data:`INPUT_NAMES`, and ``rw`` when ``rw_steps > 0``."""
    return INPUT_NAMES + ((RW_INPUT,) if rw_steps else ())


def return_probs(edge_index: np.ndarray, n_atoms: int, steps: int) -> np.ndarray:
    """Random-walk return probabilities of one molecule, float32 ``[n_atoms, steps]``.

    The numpy twin of :func:`molmtd.backbones.gnn.random_walk_return_probs` for one graph:
    entry ``[v, k-1]`` is ``(P^k)[v, v]``, ``P = D^-1 A`` (an isolated atom's row is 0).
    """
    out = np.zeros((n_atoms, steps), dtype=np.float32)
    if n_atoms == 0 or steps == 0:
        return out
    src, dst = edge_index[0].astype(np.int64), edge_index[1].astype(np.int64)
    degree = np.bincount(src, minlength=n_atoms).clip(min=1).astype(np.float32)
    transition = np.zeros((n_atoms, n_atoms), dtype=np.float32)
    transition[src, dst] = (1.0 / degree)[src]
    power = transition
    for k in range(steps):
        out[:, k] = np.diagonal(power)
        if k + 1 < steps:
            power = power @ transition
    return out


def onnx_inputs(
    graphs: Sequence[dict[str, np.ndarray]], rw_steps: int = 0
) -> dict[str, np.ndarray]:
    """Batch featurised graphs (:func:`molmtd.backbones.features.mol_to_graph`) for ONNX.

    The numpy twin of :func:`molmtd.backbones.features.batch_graphs`: the same int64
    arrays, plus ``graph_sizes`` (atoms per graph, which fixes the number of graphs) and,
    when ``rw_steps > 0``, ``rw``: each atom's random-walk return probabilities
    (:func:`return_probs`).
    """
    sizes = np.fromiter((g["x"].shape[0] for g in graphs), dtype=np.int64, count=len(graphs))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    edge_index = np.concatenate(
        [g["edge_index"].astype(np.int64) + off for g, off in zip(graphs, offsets)], axis=1
    )
    inputs = {
        "x": np.concatenate([g["x"] for g in graphs]).astype(np.int64),
        "edge_index": edge_index,
        "edge_attr": np.concatenate([g["edge_attr"] for g in graphs]).astype(np.int64),
        "batch": np.repeat(np.arange(len(graphs), dtype=np.int64), sizes),
        "graph_sizes": sizes,
    }
    if rw_steps:
        inputs[RW_INPUT] = np.concatenate(
            [return_probs(g["edge_index"], int(n), rw_steps) for g, n in zip(graphs, sizes)]
        )
    return inputs


def _exportable(backbone: Any) -> Any:
    """A module computing ``backbone``'s rows from the :func:`onnx_inputs` tensors."""
    if not isinstance(backbone, MolGNN) or backbone.conv_type != "gine":
        raise NotImplementedError("ONNX export supports GINE students (MolGNN, conv='gine')")
    if any(kind not in EXPORTABLE_POOLS for kind in backbone.pools):
        raise NotImplementedError(
            f"ONNX export: pool={backbone.pool_type!r} is not supported (mean, sum or "
            "mean+sum pooling)"
        )

    class Rows(torch.nn.Module):
        def __init__(self, gnn: MolGNN) -> None:
            super().__init__()
            self.gnn = gnn

        @staticmethod
        def encode(encoder: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
            # Gather-and-sum: the ONNX export of embedding_bag gives wrong rows.
            return encoder.embedding.weight[x + encoder.offsets].sum(1)

        def pool(self, h: torch.Tensor, batch: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
            total = h.new_zeros((sizes.shape[0], h.shape[1])).index_add(0, batch, h)
            pooled = [
                total / self.gnn.sum_scale
                if kind == "sum"
                else total / sizes.clamp(min=1).unsqueeze(1).to(h.dtype)
                for kind in self.gnn.pools
            ]
            return pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)

        def forward(self, x, edge_index, edge_attr, batch, graph_sizes, rw=None):
            gnn = self.gnn
            h = self.encode(gnn.atom_encoder, x)
            if gnn.rw_encoder is not None:
                h = h + gnn.rw_encoder(rw)
            pooled = []
            for i, (conv, norm) in enumerate(zip(gnn.convs, gnn.norms)):
                edges = self.encode(gnn.bond_encoders[i], edge_attr)
                # _gine_no_grad's operations, out of place (in-place ones export wrongly).
                messages = torch.relu(h.index_select(0, edge_index[0]) + edges)
                aggregated = torch.zeros_like(h).index_add(0, edge_index[1], messages)
                out = conv.nn(aggregated + (1 + conv.eps) * h)
                out = torch.relu(norm(out))
                h = h + out if gnn.residual else out
                if gnn.readout == "concat" or i == len(gnn.convs) - 1:
                    pooled.append(self.pool(h, batch, graph_sizes))
            return gnn.rows(gnn.proj(torch.cat(pooled, dim=-1)))

    return Rows(backbone).eval()


def export_onnx(model: str | Path | Any, out: str | Path, opset: int = 18) -> Path:
    """Write a student as an ONNX file (float32) beside a ``.json`` with its config.

    Parameters
    ----------
    model
        Shipped model name, student path, or a loaded GINE backbone.
    out
        Path of the ``.onnx`` file to write.
    opset
        ONNX opset.
    """
    backbone = model if isinstance(model, torch.nn.Module) else _load(model)
    module = _exportable(backbone)
    names = input_names(backbone.rw_steps)
    example = onnx_inputs(
        [smiles_to_graph(s) for s in ("CCO", "c1ccccc1O", "CC(=O)N")], backbone.rw_steps
    )
    args = tuple(torch.from_numpy(example[k]) for k in names)
    nodes, edges, graphs = "nodes", "edges", "graphs"
    dynamic = {
        "x": {0: nodes},
        "edge_index": {1: edges},
        "edge_attr": {0: edges},
        "batch": {0: nodes},
        "graph_sizes": {0: graphs},
        RW_INPUT: {0: nodes},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            module,
            args,
            str(out),
            input_names=list(names),
            output_names=["rows"],
            dynamic_axes={k: v for k, v in dynamic.items() if k in names},
            opset_version=opset,
            dynamo=True,
            external_data=False,  # one self-contained file (the student is a few MB)
            verbose=False,
        )
    meta = {"backbone": backbone.config, "format": "molmtd-onnx/1", "inputs": list(names)}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return out


def _load(model: str | Path) -> Any:
    path = Path(model)
    return load_student(path if path.exists() else model_dir(str(model)))


class OnnxStudent:
    """An exported student run by ONNX Runtime on the CPU.

    Parameters
    ----------
    path
        The ``.onnx`` file written by :func:`export_onnx`.
    threads
        Intra-op threads. Default 1: with more, ONNX Runtime 1.32's parallel
        ScatterElements(reduction="add") (the message sum) loses updates: rows then differ
        from run to run by up to 25% (relative L2, measured on 500 MOSES molecules with 2
        threads). Run several processes instead.
    """

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        self.path = Path(path)
        self.session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        meta = self.path.with_suffix(".json")
        self.config = json.loads(meta.read_text())["backbone"] if meta.is_file() else {}
        session_inputs = {i.name for i in self.session.get_inputs()}
        self.rw_steps = int(self.config.get("rw_steps", 0)) if RW_INPUT in session_inputs else 0
        if RW_INPUT in session_inputs and not self.rw_steps:
            raise ModelFileError(f"{meta}: the ONNX graph takes rw but its config has no rw_steps")

    def run(self, graphs: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        """Rows (float32 [len(graphs), dim]) of featurised graphs."""
        return self.run_inputs(onnx_inputs(graphs, self.rw_steps))

    def run_inputs(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Rows of an :func:`onnx_inputs` batch."""
        return self.session.run(["rows"], inputs)[0]


#: Molecules whose ONNX rows must equal the verified torch rows before a cached export is used.
CHECK_SMILES = ("CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "BrCCBr")
CHECK_ATOL = 1e-4


def rows_match(student: OnnxStudent, backbone: Any) -> bool:
    """True when ``student`` gives ``backbone``'s rows on :data:`CHECK_SMILES` (within 1e-4)."""
    graphs = [smiles_to_graph(smi) for smi in CHECK_SMILES]
    with eval_mode(backbone), torch.inference_mode():
        expected = backbone(backbone.collate(list(CHECK_SMILES))).float().numpy()
    return bool(np.allclose(student.run(graphs), expected, atol=CHECK_ATOL, rtol=0))


def cached_onnx_student(backbone: Any, weights_sha256: str, cache_dir: Path) -> OnnxStudent:
    """``backbone`` exported to ONNX once per weights hash, checked on every load.

    The export lives at ``cache_dir/<sha[:16]>.onnx`` (written beside and renamed, so
    concurrent runs are safe). A cached file is used only if its rows equal the verified
    torch model's on :data:`CHECK_SMILES`; otherwise it is exported again, and a second
    mismatch raises.

    Raises
    ------
    molmtd.student.cards.ModelFileError
        The export does not reproduce the model's rows.
    """
    onnx_path = Path(cache_dir) / f"{weights_sha256[:16]}.onnx"
    for attempt in range(2):
        if not onnx_path.is_file():
            onnx_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=onnx_path.parent)) / onnx_path.name
            export_onnx(backbone, tmp)
            os.replace(tmp.with_suffix(".json"), onnx_path.with_suffix(".json"))
            os.replace(tmp, onnx_path)
            tmp.parent.rmdir()
        student = OnnxStudent(onnx_path)
        if rows_match(student, backbone):
            return student
        if attempt == 0:  # a changed or corrupt cached export: made again from the weights
            onnx_path.unlink(missing_ok=True)
    raise ModelFileError(f"{onnx_path}: the ONNX export does not reproduce the model's rows")
