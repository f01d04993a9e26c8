"""The batched binary-record featuriser gives exactly mol_to_graph's graphs."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from molmtd.backbones import rdkit_binary_graphs
from molmtd.backbones.features import GraphCollator, mol_to_graph, mols_to_graphs
from molmtd.data.paths import package_file

# Molecules that exercise every field of the atom, bond and ring records.
EDGE_CASES = [
    "C",
    "[H][H]",
    "[2H]C([2H])([2H])[2H]",
    "[13CH4]",
    "[CH3]",
    "C[CH2]",
    "[O-][O-]",
    "[NH4+]",
    "[Na+].[Cl-]",
    "[Fe+3]",
    "[U]",
    "O=[N+]([O-])c1ccccc1",
    "c1cc[nH]c1",
    "C[C@H](N)O",
    "C[C@@H](N)C(=O)O",
    "F/C=C/F",
    "F/C=C\\F",
    "C/C=C/C=C/C",
    "C[S@@](=O)c1ccccc1",
    "C=C=C",
    "CC=C=C(C)C",
    "N#N",
    "FS(F)(F)(F)(F)F",
    "[Si](C)(C)(C)C",
    "B1=CC=C1",
    "C12C3C4C1C5C2C3C45",
    "C1CC2CCC1C2",
    "c1ccc2cc3ccccc3cc2c1",
    "C" * 40,
    "C1" + "C" * 30 + "1",
    "OC(=O)C[N+](C)(C)C.[Br-]",
    "[Cu+2].[O-]S(=O)(=O)[O-]",
    "CC(C)(C)[O]",
    "[C-]#[O+]",
    "c1ccccc1-c1ccccc1",
]


@pytest.fixture(scope="module")
def nci_mols() -> list[Chem.Mol]:
    """Every molecule of RDKit's NCI sample that parses (about 5,000)."""
    path = package_file("rdkit", "Data/NCI/first_5K.smi")
    smiles = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    return [m for m in mols if m is not None and m.GetNumAtoms()]


def _assert_same(ours: dict[str, np.ndarray], ref: dict[str, np.ndarray], what: str) -> None:
    for key in ("x", "edge_index", "edge_attr"):
        assert ours[key].dtype == ref[key].dtype, (what, key)
        assert ours[key].shape == ref[key].shape, (what, key)
        assert np.array_equal(ours[key], ref[key]), (what, key)


def test_decoder_equals_mol_to_graph_on_nci(nci_mols):
    decoded = rdkit_binary_graphs.decode_graphs(nci_mols)
    assert len(decoded) == len(nci_mols) > 4900
    declined = [i for i, g in enumerate(decoded) if g is None]
    assert len(declined) < 0.01 * len(nci_mols), "the fast path should cover nearly everything"
    for mol, graph in zip(nci_mols, decoded):
        if graph is not None:
            _assert_same(graph, mol_to_graph(mol), Chem.MolToSmiles(mol))


def test_decoder_equals_mol_to_graph_on_edge_cases():
    mols = [Chem.MolFromSmiles(s) for s in EDGE_CASES]
    mols += [
        Chem.AddHs(Chem.MolFromSmiles("CC(=O)O")),
        Chem.AddHs(Chem.MolFromSmiles("C[C@H](F)Cl")),
    ]
    decoded = rdkit_binary_graphs.decode_graphs(mols)
    assert all(g is not None for g in decoded), [
        EDGE_CASES[i] for i, g in enumerate(decoded) if g is None
    ]
    for mol, graph in zip(mols, decoded):
        _assert_same(graph, mol_to_graph(mol), Chem.MolToSmiles(mol))


def test_decoder_batches_independently():
    mols = [Chem.MolFromSmiles(s) for s in EDGE_CASES]
    together = rdkit_binary_graphs.decode_graphs(mols)
    for mol, graph in zip(mols, together):
        _assert_same(rdkit_binary_graphs.decode_graphs([mol])[0], graph, Chem.MolToSmiles(mol))


def test_declined_records_fall_back_to_mol_to_graph():
    # atom-map numbers, dummy atoms, queries and >255 atoms are not decoded
    mols = [
        Chem.MolFromSmiles("[CH3:1]CO"),
        Chem.MolFromSmiles("*CC"),
        Chem.MolFromSmarts("[#6]-[#8]"),
        Chem.MolFromSmiles("C" * 300),
        Chem.MolFromSmiles("CCO"),
    ]
    for mol in mols[2:3]:
        mol.UpdatePropertyCache(strict=False)
        Chem.FastFindRings(mol)
    decoded = rdkit_binary_graphs.decode_graphs(mols)
    assert [g is None for g in decoded] == [True, True, True, True, False]
    for mol, graph in zip(mols, mols_to_graphs(mols)):
        _assert_same(graph, mol_to_graph(mol), Chem.MolToSmiles(mol))


def test_unknown_format_version_declines_everything(monkeypatch):
    monkeypatch.setattr(rdkit_binary_graphs, "SUPPORTED_MAJOR_VERSION", 15)
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", "c1ccccc1")]
    assert rdkit_binary_graphs.decode_graphs(mols) == [None, None]
    for mol, graph in zip(mols, mols_to_graphs(mols)):
        _assert_same(graph, mol_to_graph(mol), Chem.MolToSmiles(mol))


def test_a_molecule_that_cannot_be_featurised_fails_only_itself():
    bad = Chem.MolFromSmiles("CC=CC")
    bad.GetBondWithIdx(1).SetStereoAtoms(0, 3)
    bad.GetBondWithIdx(1).SetStereo(Chem.BondStereo.STEREOATROPCW)  # outside OGB's vocabulary
    with pytest.raises(KeyError):
        mol_to_graph(bad)
    mols = [Chem.MolFromSmiles("CCO"), bad, Chem.MolFromSmiles("CN")]
    out = mols_to_graphs(mols)
    assert isinstance(out[1], KeyError)
    _assert_same(out[0], mol_to_graph(mols[0]), "CCO")
    _assert_same(out[2], mol_to_graph(mols[2]), "CN")


def test_collator_cache_and_errors_unchanged(nci_mols):
    smiles = [Chem.MolToSmiles(m) for m in nci_mols[:50]]
    collator = GraphCollator(cache_size=20)
    first = collator.graphs(smiles)
    again = collator.graphs(smiles[-10:])
    for a, b in zip(first[-10:], again):
        assert a is b  # from the cache
    for smi, graph in zip(smiles, first):
        _assert_same(graph, mol_to_graph(Chem.MolFromSmiles(smi)), smi)
    with pytest.raises(ValueError, match=r"index 12: 'C1CC\(N'"):
        collator([smiles[0], "C1CC(N"], start=11)
