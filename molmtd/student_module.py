"""A distilled student as a ``torch.nn.Module``, for use inside a user's own model.

>>> from molmtd import load_student_module
>>> student = load_student_module("default")            # doctest: +SKIP
>>> batch = student.collate(["CCO", "c1ccccc1O"])        # doctest: +SKIP
>>> student(batch).shape                                 # doctest: +SKIP
torch.Size([2, 512])

The module is a copy of the verified weights that :class:`~molmtd.featurizer.Featurizer`
loads, and :meth:`StudentModule.collate` is the Featurizer's own parsing, standardisation and
graph featurisation (:func:`molecules_to_batch`), so a frozen module gives the Featurizer's
rows. Fine-tune it like any module: its parameters require gradients (unless
``trainable=False``), and ``train()`` / ``eval()`` switch its BatchNorm statistics as usual.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from molmtd.backbones.features import batch_graphs
from molmtd.featurizer import Featurizer
from molmtd.student.backends import featurises_graphs
from molmtd.student.molecules import Rejected, as_list, featurise_chunk, rejection_error

__all__ = ["StudentModule", "load_student_module", "molecules_to_batch"]


def molecules_to_batch(featurizer: Any, molecules: Sequence[Any]) -> Any:
    """Molecules to the PyG ``Batch`` that ``featurizer``'s GNN student embeds.

    The same parsing, standardisation and featurisation as ``featurizer.transform``; a batch
    has no NaN rows, so an invalid input always raises.

    Raises
    ------
    molmtd.featurizer.InvalidMoleculeError
        For an input that is not a valid molecule (names its index and SMILES).
    """
    items = as_list(molecules)
    featurised = featurise_chunk(items, featurizer._standardize_mode())
    for i, (item, graph) in enumerate(zip(items, featurised)):
        if isinstance(graph, Rejected):
            raise rejection_error(i, item, graph)
    return batch_graphs(featurised)  # type: ignore[arg-type]


class StudentModule(nn.Module):
    """A GNN student: PyG ``Batch`` (from :meth:`collate`) -> ``Tensor[num_graphs, dim]``.

    Parameters
    ----------
    backbone
        The student network (a :class:`molmtd.backbones.gnn.MolGNN`).
    featurizer
        The Featurizer whose parsing and featurisation (:func:`molecules_to_batch`) turn
        molecules into the batches this module takes.
    """

    def __init__(self, backbone: nn.Module, featurizer: Any) -> None:
        super().__init__()
        self.backbone = backbone
        self.dim = int(backbone.dim)
        self.__dict__["featurizer"] = featurizer  # not a submodule: holds no parameters

    def collate(self, molecules: Sequence[Any]) -> Any:
        """SMILES strings or RDKit molecules -> a PyG ``Batch`` on this module's device.

        Raises
        ------
        molmtd.featurizer.InvalidMoleculeError
            For an input that is not a valid molecule (names its index and SMILES).
        """
        device = next(self.backbone.parameters()).device
        return molecules_to_batch(self.featurizer, molecules).to(device)

    def forward(self, batch: Any) -> Tensor:
        """Embed a collated batch: ``Tensor[batch.num_graphs, dim]``."""
        return self.backbone(batch)


def load_student_module(
    model: str | Path = "default", trainable: bool = True, device: str = "cpu"
) -> StudentModule:
    """A shipped or trained student as a ``torch.nn.Module`` taking a PyG ``Batch``.

    Parameters
    ----------
    model
        Shipped model name (``molmtd.list_models()``) or a student folder / run directory,
        as for :class:`~molmtd.featurizer.Featurizer`; its weights are checked against its
        card before use.
    trainable
        Whether the parameters require gradients (``False``: a frozen feature extractor).
    device
        Torch device of the module.

    Returns
    -------
    StudentModule
        In training mode, as a freshly built module is; call ``.eval()`` to embed.
    """
    featurizer = Featurizer(model=model, device=device)
    loaded = featurizer._backbone()
    if not featurises_graphs(loaded):
        raise TypeError(f"model {str(model)!r} is not a graph student")
    backbone = copy.deepcopy(loaded)  # the Featurizer's own copy stays frozen
    backbone.train()
    for param in backbone.parameters():
        param.requires_grad_(trainable)
    return StudentModule(backbone, featurizer).to(torch.device(device))
