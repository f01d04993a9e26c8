"""OGB-style molecular graph featurisation and batching for the GNN backbones.

:func:`mol_to_graph` produces exactly the integer features of ``ogb.utils.smiles2graph``
(9 atom features, 3 bond features, both edge directions) but with dictionary look-ups
instead of ``list.index`` and compact dtypes, so it is faster and a cached graph costs
about 1 kB. :class:`GraphCollator` turns a list of SMILES (or RDKit ``Mol``) into a PyG
``Batch``; it is a small picklable object meant to run inside DataLoader workers, and keeps
an LRU cache of featurised graphs so later epochs skip RDKit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from ogb.utils.features import allowable_features, get_atom_feature_dims, get_bond_feature_dims

ATOM_FEATURE_DIMS: list[int] = get_atom_feature_dims()
BOND_FEATURE_DIMS: list[int] = get_bond_feature_dims()


def _lookup(values: list[Any]) -> dict[Any, int]:
    return {v: i for i, v in enumerate(values)}


_ATOMIC_NUM = _lookup(allowable_features["possible_atomic_num_list"])
_CHIRALITY = _lookup(allowable_features["possible_chirality_list"])
_DEGREE = _lookup(allowable_features["possible_degree_list"])
_CHARGE = _lookup(allowable_features["possible_formal_charge_list"])
_NUM_H = _lookup(allowable_features["possible_numH_list"])
_RADICAL = _lookup(allowable_features["possible_number_radical_e_list"])
_HYBRID = _lookup(allowable_features["possible_hybridization_list"])
_BOND_TYPE = _lookup(allowable_features["possible_bond_type_list"])
_BOND_STEREO = _lookup(allowable_features["possible_bond_stereo_list"])


def _idx(table: dict[Any, int], value: Any) -> int:
    """OGB's ``safe_index``: unknown values map to the last ('misc') slot."""
    return table.get(value, len(table) - 1)


def mol_to_graph(mol: Any) -> dict[str, np.ndarray]:
    """Featurise an RDKit molecule as OGB does.

    Returns
    -------
    dict
        ``x`` uint8 [n_atoms, 9], ``edge_index`` int32 [2, 2 * n_bonds],
        ``edge_attr`` uint8 [2 * n_bonds, 3]; identical values to ``ogb.utils.smiles2graph``.
    """
    atoms = mol.GetAtoms()
    x = np.empty((len(atoms), 9), dtype=np.uint8)
    for i, atom in enumerate(atoms):
        x[i] = (
            _idx(_ATOMIC_NUM, atom.GetAtomicNum()),
            _idx(_CHIRALITY, str(atom.GetChiralTag())),
            _idx(_DEGREE, atom.GetTotalDegree()),
            _idx(_CHARGE, atom.GetFormalCharge()),
            _idx(_NUM_H, atom.GetTotalNumHs()),
            _idx(_RADICAL, atom.GetNumRadicalElectrons()),
            _idx(_HYBRID, str(atom.GetHybridization())),
            int(atom.GetIsAromatic()),
            int(atom.IsInRing()),
        )
    bonds = mol.GetBonds()
    n_bonds = len(bonds)
    edge_index = np.empty((2, 2 * n_bonds), dtype=np.int32)
    edge_attr = np.empty((2 * n_bonds, 3), dtype=np.uint8)
    for k, bond in enumerate(bonds):
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feat = (
            _idx(_BOND_TYPE, str(bond.GetBondType())),
            _BOND_STEREO[str(bond.GetStereo())],
            int(bond.GetIsConjugated()),
        )
        edge_index[:, 2 * k] = (i, j)
        edge_index[:, 2 * k + 1] = (j, i)
        edge_attr[2 * k] = feat
        edge_attr[2 * k + 1] = feat
    return {"x": x, "edge_index": edge_index, "edge_attr": edge_attr}


def smiles_to_graph(item: Any, index: int = 0) -> dict[str, np.ndarray]:
    """Featurise a SMILES string (or an RDKit ``Mol``); raise ``ValueError`` naming the item.

    Parameters
    ----------
    item
        SMILES string or ``rdkit.Chem.Mol``.
    index
        Position of ``item`` in the caller's input, used in the error message.
    """
    from rdkit import Chem

    if isinstance(item, Chem.Mol):
        mol = item
    elif isinstance(item, str):
        from molmtd.utils import rdkit_quiet

        with rdkit_quiet():
            mol = Chem.MolFromSmiles(item)
    else:
        raise ValueError(
            f"item {index} is not a SMILES string or RDKit Mol: {type(item).__name__} {item!r}"
        )
    if mol is None:
        raise ValueError(f"could not parse SMILES at index {index}: {item!r}")
    if mol.GetNumAtoms() == 0:
        raise ValueError(f"molecule at index {index} has no atoms: {item!r}")
    return mol_to_graph(mol)


def batch_graphs(graphs: Sequence[dict[str, np.ndarray]]) -> Any:
    """Concatenate featurised graphs into a PyG ``Batch`` (int64 tensors, ``batch``/``ptr``)."""
    from torch_geometric.data import Batch

    sizes = np.fromiter((g["x"].shape[0] for g in graphs), dtype=np.int64, count=len(graphs))
    offsets = np.zeros(len(graphs) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    x = np.concatenate([g["x"] for g in graphs]).astype(np.int64)
    edge_index = np.concatenate(
        [g["edge_index"].astype(np.int64) + off for g, off in zip(graphs, offsets[:-1])], axis=1
    )
    edge_attr = np.concatenate([g["edge_attr"] for g in graphs]).astype(np.int64)
    batch = np.repeat(np.arange(len(graphs), dtype=np.int64), sizes)
    out = Batch(
        x=torch.from_numpy(x),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=torch.from_numpy(edge_attr),
        batch=torch.from_numpy(batch),
        ptr=torch.from_numpy(offsets),
    )
    out._num_graphs = len(graphs)
    return out


class GraphCollator:
    """Picklable ``collate``: SMILES/Mols -> PyG ``Batch``, with an LRU cache of graphs.

    Parameters
    ----------
    cache_size
        Number of featurised graphs kept per process (about 1 kB each); 0 disables the
        cache. With persistent DataLoader workers the cache survives across epochs.
    """

    def __init__(self, cache_size: int = 0) -> None:
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        return {"cache_size": self.cache_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["cache_size"])

    def graph(self, item: Any, index: int = 0) -> dict[str, np.ndarray]:
        if self.cache_size <= 0 or not isinstance(item, str):
            return smiles_to_graph(item, index)
        cached = self._cache.get(item)
        if cached is not None:
            self._cache.move_to_end(item)
            return cached
        graph = smiles_to_graph(item, index)
        self._cache[item] = graph
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return graph

    def __call__(self, items: Sequence[Any], start: int = 0) -> Any:
        """Featurise and batch ``items``; error messages count indices from ``start``."""
        if isinstance(items, str):
            raise TypeError("collate expects a sequence of SMILES, got a single string")
        if len(items) == 0:
            raise ValueError("cannot collate an empty batch")
        return batch_graphs([self.graph(item, start + i) for i, item in enumerate(items)])
