"""The forward pass of a graph student: torch, ``torch.compile``, int8 or bfloat16 autocast.

ONNX Runtime, the fifth backend, lives in :mod:`molmtd.student.onnx`. Every function here
takes featurised graphs (:func:`molmtd.backbones.features.mol_to_graph`) and writes float32
rows; none parses molecules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from molmtd import cpu
from molmtd.backbones.batching import eval_mode, to_device
from molmtd.backbones.features import GraphCollator, batch_graphs, smiles_to_graph

Graphs = list[tuple[int, dict[str, np.ndarray]]]

# precision="auto": bfloat16 only where the CPU multiplies it natively and these molecules'
# rows stay this close to float32 (relative L2; the shipped model's worst row over 2,000
# MOSES molecules is 0.005, see benchmarks/results/speed/bfloat16_rows_amx_xeon.csv).
AUTO_CHECK_SMILES = (
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "O=C(O)c1ccccc1OC(C)=O",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "C[NH+](C)CCC(c1ccccc1)c1ccccn1",
    "O=S(=O)(N)c1cc(C(=O)O)c(NCc2ccco2)cc1Cl",
    "FC(F)(F)c1ccc(Oc2ccccc2)cc1",
    "C/C=C/C(=O)[O-]",
    "BrCCBr",
)
AUTO_MAX_RELATIVE_L2 = 0.02


def featurises_graphs(backbone: Any) -> bool:
    """True for the GNN backbones, whose collate turns molecules into OGB graphs."""
    return isinstance(getattr(backbone, "collator", None), GraphCollator)


def forward(module: Any, graphs: Graphs, out: np.ndarray, device: torch.device) -> None:
    """Embed one batch of ``(row, graph)`` pairs into ``out[row]`` (caller sets eval mode)."""
    emb = module(to_device(batch_graphs([g for _, g in graphs]), device))
    out[[row for row, _ in graphs]] = emb.float().cpu().numpy()


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on ``device`` when ``precision == "bfloat16"``, else nothing."""
    if precision != "bfloat16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def bfloat16_relative_error(backbone: Any, smiles: Sequence[str]) -> np.ndarray:
    """Relative L2 distance of each molecule's bfloat16 row from its float32 row.

    Only measured for students that featurise graphs; others get ``[inf]`` (so "auto"
    keeps them in float32).
    """
    if not featurises_graphs(backbone):
        return np.array([np.inf])
    device = next(iter(backbone.parameters())).device
    graphs = [(i, smiles_to_graph(s, i)) for i, s in enumerate(smiles)]
    rows = np.zeros((2, len(smiles), backbone.dim), dtype=np.float32)
    with eval_mode(backbone), torch.inference_mode():
        forward(backbone, graphs, rows[0], device)
        with autocast("bfloat16", device):
            forward(backbone, graphs, rows[1], device)
    return np.linalg.norm(rows[1] - rows[0], axis=1) / np.linalg.norm(rows[0], axis=1)


def auto_precision(backbone: Any, device: str | torch.device) -> str:
    """``"bfloat16"`` if the CPU has bfloat16 instructions and the rows check passes."""
    if torch.device(device).type != "cpu" or not cpu.has_fast_bfloat16():
        return "float32"
    error = bfloat16_relative_error(backbone, AUTO_CHECK_SMILES)
    return "bfloat16" if float(error.max()) <= AUTO_MAX_RELATIVE_L2 else "float32"


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """``torch.set_num_threads(n)`` for the block, then the previous setting (None: unchanged)."""
    previous = torch.get_num_threads()
    if n is not None and n != previous:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
