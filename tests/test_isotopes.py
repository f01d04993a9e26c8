"""One rule for isotopes: a labelled molecule is featurised as its unlabelled parent."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from molmtd import Featurizer, load_student_module
from molmtd.backbones.features import GraphCollator, has_isotopes, without_isotopes

PAIRS = [
    ("c1ccccc1", "[2H]c1c([2H])c([2H])c([2H])c([2H])c1[2H]"),  # benzene-d6
    ("c1ccccc1", "[13cH]1ccccc1"),
    ("CC(=O)O", "[2H]OC(=O)C([2H])([2H])[2H]"),
    ("OCCF", "OCC[18F]"),
    ("C[C@H](N)C(=O)O", "[2H][C@@](C)(N)C(=O)O"),  # alanine-2-d1 keeps its configuration
    ("CN1CCC[C@H]1c1cccnc1", "[11CH3]N1CCC[C@H]1c1cccnc1"),
]


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    featurizer = Featurizer(precision="float32")
    return featurizer.transform([s for pair in PAIRS for s in pair]).reshape(len(PAIRS), 2, -1)


def test_labelled_molecules_embed_like_their_parent(rows):
    np.testing.assert_allclose(rows[:, 1], rows[:, 0], atol=1e-4)
    # and the rule does not merge different molecules: phenol is far from benzene
    phenol = Featurizer(precision="float32").transform(["Oc1ccccc1"])[0]
    assert np.linalg.norm(phenol - rows[0, 0]) > 1.0


def test_rdkit_molecules_follow_the_same_rule(rows):
    mols = [Chem.MolFromSmiles(labelled) for _, labelled in PAIRS]
    np.testing.assert_allclose(
        Featurizer(precision="float32").transform(mols), rows[:, 0], atol=1e-4
    )


def test_training_collator_and_module_follow_the_same_rule(rows):
    collator = GraphCollator()
    for parent, labelled in PAIRS:
        a, b = collator([parent]), collator([labelled])
        assert a.x.shape == b.x.shape and torch.equal(a.x.sort(0).values, b.x.sort(0).values)
    student = load_student_module("default").eval()
    with torch.no_grad():
        out = student(student.collate([labelled for _, labelled in PAIRS])).numpy()
    np.testing.assert_allclose(out, rows[:, 0], atol=1e-4)


def test_helpers():
    assert has_isotopes("[2H]C") and has_isotopes("C[13CH3]") and not has_isotopes("[Na+].[Cl-]")
    assert not has_isotopes("C[C@H](N)C(=O)O")
    assert Chem.MolToSmiles(without_isotopes(Chem.MolFromSmiles(PAIRS[0][1]))) == "c1ccccc1"
