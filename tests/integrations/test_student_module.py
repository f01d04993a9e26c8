"""The student as a torch module inside a user's own model and optimiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import molmtd
from molmtd import Featurizer
from molmtd.featurizer import InvalidMoleculeError

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "OC(=O)CCl"]


class PropertyModel(nn.Module):
    """What a user writes: the distilled student, then a head of their own."""

    def __init__(self) -> None:
        super().__init__()
        self.student = molmtd.load_student_module("default")
        self.head = nn.Sequential(nn.Linear(self.student.dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, batch) -> torch.Tensor:
        return self.head(self.student(batch)).squeeze(-1)


def test_frozen_module_gives_the_featurizers_rows():
    student = molmtd.load_student_module("default", trainable=False).eval()
    batch = student.collate(SMILES)
    assert batch.num_graphs == len(SMILES)
    with torch.no_grad():
        rows = student(batch).numpy()
    np.testing.assert_allclose(rows, Featurizer(precision="float32").transform(SMILES), atol=1e-5)
    assert not any(p.requires_grad for p in student.parameters())


def test_one_training_step_inside_a_user_model():
    torch.manual_seed(0)
    model = PropertyModel()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = {k: v.clone() for k, v in model.student.state_dict().items()}
    batch = model.student.collate(SMILES)
    target = torch.tensor([0.1, 0.5, 0.3, 0.9, 0.2])
    loss = nn.functional.mse_loss(model(batch), target)
    loss.backward()
    assert all(p.grad is not None for p in model.student.parameters())
    optimiser.step()
    changed = [k for k, v in model.student.state_dict().items() if not torch.equal(v, before[k])]
    assert any("convs" in k for k in changed) and torch.isfinite(loss)
    # the shipped model the Featurizer loads is untouched by the user's training
    fresh = Featurizer(precision="float32").transform(SMILES[:2])
    again = molmtd.load_student_module("default").eval()
    with torch.no_grad():
        np.testing.assert_allclose(again(again.collate(SMILES[:2])).numpy(), fresh, atol=1e-5)


def test_collate_names_a_bad_molecule():
    student = molmtd.load_student_module("default")
    with pytest.raises(InvalidMoleculeError, match=r"input 1 \('not a smiles'\)"):
        student.collate(["CCO", "not a smiles"])
