"""Property-based invariance of the Featurizer over real molecules (issue #18, item 2).

Real molecules: the first 300 of RDKit's NCI sample. A row must not depend on how the
molecule is written (SMILES spelling, atom order, Kekulé or aromatic, explicit or implicit
hydrogens), on salt forms when ``standardize="parent"``, nor on the batch size, ``n_jobs``
or the molecule's position in the input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdkit import Chem
from trust_helpers import real_smiles, save_student

from molmtd.featurizer import Featurizer

MOLECULES = real_smiles(300)
ATOL = 1e-5
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_student(tmp_path_factory.mktemp("inv") / "m")


@pytest.fixture(scope="module")
def reference(model: Path) -> np.ndarray:
    """Each molecule's row, embedded alone from its canonical SMILES."""
    feat = Featurizer(model=model)
    return np.stack([feat.transform([Chem.CanonSmiles(s)])[0] for s in MOLECULES])


def _spellings(smiles: str, seed: int) -> list:
    """Other ways to write the same molecule: strings and Mol objects."""
    mol = Chem.MolFromSmiles(smiles)
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(mol.GetNumAtoms())]
    shuffled = Chem.RenumberAtoms(mol, order)
    kekule = Chem.Mol(shuffled)
    Chem.Kekulize(kekule, clearAromaticFlags=True)
    with_h = Chem.AddHs(shuffled)
    return [
        Chem.MolToSmiles(mol, doRandom=True),  # RDKit's random spelling
        Chem.MolToSmiles(shuffled, canonical=False),  # the SMILES of another atom order
        Chem.MolToSmiles(kekule, kekuleSmiles=True, canonical=False),
        Chem.MolToSmiles(with_h, canonical=False),  # explicit [H] atoms in the string
        shuffled,  # a Mol in another atom order
        kekule,  # a kekulised Mol
        with_h,  # a Mol with explicit hydrogen atoms
    ]


@SETTINGS
@given(index=st.integers(0, len(MOLECULES) - 1), seed=st.integers(0, 2**16))
def test_spelling_and_representation_do_not_change_the_row(
    model: Path, reference: np.ndarray, index: int, seed: int
) -> None:
    forms = _spellings(MOLECULES[index], seed)
    X = Featurizer(model=model).transform(forms)
    np.testing.assert_allclose(X, np.repeat(reference[[index]], len(forms), axis=0), atol=ATOL)


COUNTERIONS = ["Cl", "[Cl-]", "[Na+]", "[K+]", "Br", "O", "O.O", "[Na+].[Na+]"]


@SETTINGS
@given(
    index=st.integers(0, len(MOLECULES) - 1),
    ions=st.lists(st.sampled_from(COUNTERIONS), min_size=1, max_size=3),
    before=st.booleans(),
)
def test_salt_forms_equal_their_parent(
    model: Path, index: int, ions: list[str], before: bool
) -> None:
    smiles = MOLECULES[index]
    salt = ".".join([*ions, smiles] if before else [smiles, *ions])
    feat = Featurizer(model=model, standardize="parent")
    X = feat.transform([salt, smiles])
    np.testing.assert_allclose(X[0], X[1], atol=ATOL)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    picks=st.lists(st.integers(0, len(MOLECULES) - 1), min_size=1, max_size=120),
    batch_size=st.sampled_from([1, 3, 16, 64, 500]),
    n_jobs=st.sampled_from([1, 2]),
)
def test_rows_independent_of_batch_size_jobs_and_position(
    model: Path,
    reference: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    picks: list[int],
    batch_size: int,
    n_jobs: int,
) -> None:
    import molmtd.student.runtime as runtime

    monkeypatch.setattr(runtime, "CHUNK", 16)  # n_jobs=2 really starts a pool
    monkeypatch.setattr(runtime, "MIN_POOL_ITEMS", 32)
    X = Featurizer(model=model, batch_size=batch_size, n_jobs=n_jobs).transform(
        [MOLECULES[i] for i in picks]
    )
    np.testing.assert_allclose(X, reference[picks], atol=ATOL)
