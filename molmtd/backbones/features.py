"""OGB-style molecular graph featurisation and batching for the GNN backbones.

:func:`mol_to_graph` produces exactly the integer features of ``ogb.utils.smiles2graph``
(9 atom features, 3 bond features, both edge directions) but with dictionary look-ups
instead of ``list.index`` and compact dtypes (over OGB's own vocabulary), so it is faster
and a cached graph costs about 1 kB. :func:`mols_to_graphs` gives the same graphs for many
molecules at once, read from RDKit's binary records (:mod:`molmtd.backbones.rdkit_binary_graphs`),
about 4x faster. :class:`GraphCollator` turns a list of SMILES (or RDKit ``Mol``) into a PyG
``Batch``; it is a small picklable object meant to run inside DataLoader workers, and keeps
an LRU cache of featurised graphs so later epochs skip RDKit.
"""

from __future__ import annotations

import contextlib
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from molmtd.backbones.ogb_vocab import (  # noqa: F401  (part of this module's API)
    ALLOWABLE_FEATURES,
    ATOM_FEATURE_DIMS,
    BOND_FEATURE_DIMS,
)
from molmtd.backbones.rdkit_binary_graphs import decode_graphs
from molmtd.utils import rdkit_quiet


def _lookup(values: list[Any]) -> dict[Any, int]:
    return {v: i for i, v in enumerate(values)}


allowable_features = ALLOWABLE_FEATURES
_ATOMIC_NUM = _lookup(allowable_features["possible_atomic_num_list"])
_CHIRALITY = _lookup(allowable_features["possible_chirality_list"])
_DEGREE = _lookup(allowable_features["possible_degree_list"])
_CHARGE = _lookup(allowable_features["possible_formal_charge_list"])
_NUM_H = _lookup(allowable_features["possible_numH_list"])
_RADICAL = _lookup(allowable_features["possible_number_radical_e_list"])
_HYBRID = _lookup(allowable_features["possible_hybridization_list"])
_BOND_TYPE = _lookup(allowable_features["possible_bond_type_list"])
_BOND_STEREO = _lookup(allowable_features["possible_bond_stereo_list"])


def mol_to_graph(mol: Any) -> dict[str, np.ndarray]:
    """Featurise an RDKit molecule as OGB does.

    Returns
    -------
    dict
        ``x`` uint8 [n_atoms, 9], ``edge_index`` int32 [2, 2 * n_bonds],
        ``edge_attr`` uint8 [2 * n_bonds, 3]; identical values to ``ogb.utils.smiles2graph``.
    """
    n_misc_chiral, n_misc_hybrid = len(_CHIRALITY) - 1, len(_HYBRID) - 1
    atoms = [
        (
            _ATOMIC_NUM.get(a.GetAtomicNum(), 118),
            _CHIRALITY.get(str(a.GetChiralTag()), n_misc_chiral),
            _DEGREE.get(a.GetTotalDegree(), 11),
            _CHARGE.get(a.GetFormalCharge(), 11),
            _NUM_H.get(a.GetTotalNumHs(), 9),
            _RADICAL.get(a.GetNumRadicalElectrons(), 5),
            _HYBRID.get(str(a.GetHybridization()), n_misc_hybrid),
            int(a.GetIsAromatic()),
            int(a.IsInRing()),
        )
        for a in mol.GetAtoms()
    ]
    x = np.array(atoms, dtype=np.uint8).reshape(-1, 9)
    ends, feats = [], []
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feat = (
            _BOND_TYPE.get(str(bond.GetBondType()), 4),
            _BOND_STEREO[str(bond.GetStereo())],
            int(bond.GetIsConjugated()),
        )
        ends += ((i, j), (j, i))
        feats += (feat, feat)
    edge_index = np.array(ends, dtype=np.int32).reshape(-1, 2).T.copy()
    edge_attr = np.array(feats, dtype=np.uint8).reshape(-1, 3)
    return {"x": x, "edge_index": edge_index, "edge_attr": edge_attr}


def smiles_to_graph(item: Any, index: int = 0, quiet: bool = True) -> dict[str, np.ndarray]:
    """Featurise a SMILES string (or an RDKit ``Mol``); raise ``ValueError`` naming the item.

    Parameters
    ----------
    item
        SMILES string or ``rdkit.Chem.Mol``.
    index
        Position of ``item`` in the caller's input, used in the error message.
    quiet
        Silence RDKit's parse warnings (callers featurising many items silence them once).
    """
    from rdkit import Chem

    with rdkit_quiet() if quiet else contextlib.nullcontext():
        mol = _parsed(item, index, Chem)
    return mol_to_graph(mol)


def _may_carry_stereo(smiles: str) -> bool:
    """False when a SMILES has no stereo marks, so its molecule has no stereo flags.

    A cheap test before :func:`_order_dependent_stereo`, which costs as much as a parse.
    """
    return "@" in smiles or "/" in smiles or "\\" in smiles


def _order_dependent_stereo(mol: Any) -> bool:
    """True if ``mol`` carries stereo flags whose value depends on its atom order.

    Tetrahedral tags (CW/CCW) are relative to the order of an atom's neighbours, and
    CIS/TRANS bond flags to the chosen stereo atoms; E/Z flags are CIP labels and do not
    depend on the order.
    """
    from rdkit import Chem

    tetrahedral = (Chem.ChiralType.CHI_TETRAHEDRAL_CW, Chem.ChiralType.CHI_TETRAHEDRAL_CCW)
    if any(atom.GetChiralTag() in tetrahedral for atom in mol.GetAtoms()):
        return True
    order_free = (
        Chem.BondStereo.STEREONONE,
        Chem.BondStereo.STEREOE,
        Chem.BondStereo.STEREOZ,
        Chem.BondStereo.STEREOANY,
    )
    return any(bond.GetStereo() not in order_free for bond in mol.GetBonds())


def canonical_mol(mol: Any, smiles: str | None = None) -> Any:
    """``mol``, or its canonical SMILES parsed back where its atom order matters.

    A molecule then gets the same graph however its SMILES was written, while the SMILES
    round trip is skipped when it cannot change the features (no order-dependent stereo
    flags).

    Parameters
    ----------
    mol
        RDKit ``Mol`` with at least one atom.
    smiles
        The SMILES ``mol`` was parsed from with ``Chem.MolFromSmiles``, or None for a
        ``Mol`` from elsewhere: that is always round-tripped, since it may carry explicit
        hydrogens, be unsanitised, or have tags relative to a mol-block atom order.

    Raises
    ------
    ValueError
        If the canonical SMILES does not parse back into a molecule with atoms.
    """
    from rdkit import Chem

    if smiles is not None and not (_may_carry_stereo(smiles) and _order_dependent_stereo(mol)):
        return mol
    canonical = Chem.MolToSmiles(mol)
    if canonical != smiles:
        mol = Chem.MolFromSmiles(canonical)
        if mol is None or mol.GetNumAtoms() == 0:
            raise ValueError(f"its canonical SMILES {canonical!r} does not parse back")
    return mol


def canonical_mol_to_graph(mol: Any, smiles: str | None = None) -> dict[str, np.ndarray]:
    """Featurise ``mol`` as :func:`smiles_to_graph` featurises its canonical SMILES.

    Equals ``smiles_to_graph(Chem.MolToSmiles(mol))`` up to atom order; see
    :func:`canonical_mol` for ``smiles`` and the errors.
    """
    return mol_to_graph(canonical_mol(mol, smiles))


def mols_to_graphs(mols: Sequence[Any]) -> list[dict[str, np.ndarray] | Exception]:
    """Featurise many molecules: :func:`mol_to_graph`'s graphs, decoded in one batch.

    Most molecules are read from their RDKit binary records
    (:mod:`molmtd.backbones.rdkit_binary_graphs`, several times faster); those the decoder
    declines go through :func:`mol_to_graph`. A molecule that cannot be featurised gets the
    exception ``mol_to_graph`` raised in its place, so one bad molecule fails only itself.
    """
    out: list[dict[str, np.ndarray] | Exception] = []
    for mol, graph in zip(mols, decode_graphs(mols)):
        if graph is None:
            try:
                graph = mol_to_graph(mol)
            except Exception as err:  # RDKit raises several types; report per molecule
                out.append(err)
                continue
        out.append(graph)
    return out


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
        """Featurised graph of one item (from the cache when possible)."""
        return self.graphs([item], index)[0]

    def graphs(self, items: Sequence[Any], start: int = 0) -> list[dict[str, np.ndarray]]:
        """Featurised graphs of ``items``: cached ones reused, the others decoded in one batch.

        Raises ``ValueError`` naming the first item (index counted from ``start``) that is
        not a molecule.
        """
        from rdkit import Chem

        out: list[dict[str, np.ndarray] | None] = [None] * len(items)
        missing: list[int] = []
        mols: list[Any] = []
        for i, item in enumerate(items):
            cached = (
                self._cache.get(item) if self.cache_size > 0 and isinstance(item, str) else None
            )
            if cached is not None:
                self._cache.move_to_end(item)
                out[i] = cached
                continue
            missing.append(i)
            mols.append(_parsed(item, start + i, Chem))
        for i, graph in zip(missing, mols_to_graphs(mols)):
            if isinstance(graph, Exception):
                raise graph
            out[i] = graph
            item = items[i]
            if self.cache_size > 0 and isinstance(item, str):
                self._cache[item] = graph
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out  # type: ignore[return-value]

    def __call__(self, items: Sequence[Any], start: int = 0) -> Any:
        """Featurise and batch ``items``; error messages count indices from ``start``."""
        if isinstance(items, str):
            raise TypeError("collate expects a sequence of SMILES, got a single string")
        if len(items) == 0:
            raise ValueError("cannot collate an empty batch")
        if all(isinstance(item, dict) for item in items):
            # Already featurised (molmtd.training.packed): batched as they are, without RDKit.
            return batch_graphs(items)
        with rdkit_quiet():
            graphs = self.graphs(items, start)
        return batch_graphs(graphs)


_ISOTOPE = re.compile(r"\[\d")


def has_isotopes(item: Any) -> bool:
    """Whether a SMILES string (cheap text check) or ``Mol`` carries isotope labels."""
    if isinstance(item, str):
        return bool(_ISOTOPE.search(item))
    return any(atom.GetIsotope() for atom in item.GetAtoms())


def without_isotopes(mol: Any) -> Any:
    """``mol`` with every isotope label removed and hydrogens made implicit again.

    The students' rule for isotopes: a labelled molecule (``[2H]``, ``[13C]``, ``[18F]``)
    is featurised as its unlabelled parent, so deuterated or 13C drugs embed exactly like
    the drug. OGB's atom features never encode isotopes; without this rule a ``[2H]``
    would still become a graph node of its own (an explicit hydrogen) while ``[13C]`` would
    not, and benzene-d6 would sit farther from benzene than phenol does.
    """
    from rdkit import Chem

    mol = Chem.Mol(mol)
    for atom in mol.GetAtoms():
        atom.SetIsotope(0)
    return Chem.RemoveHs(mol, sanitize=True)


def _parsed(item: Any, index: int, chem: Any) -> Any:
    """``item`` as a ``Mol`` with atoms, or ``ValueError`` naming it (as :func:`smiles_to_graph`)."""
    if isinstance(item, chem.Mol):
        mol = item
    elif isinstance(item, str):
        mol = chem.MolFromSmiles(item)
    else:
        raise ValueError(
            f"item at index {index} is not a SMILES string or RDKit Mol: {type(item).__name__} {item!r}"
        )
    if mol is None:
        raise ValueError(f"could not parse SMILES at index {index}: {item!r}")
    if mol.GetNumAtoms() == 0:
        raise ValueError(f"molecule at index {index} has no atoms: {item!r}")
    if has_isotopes(item if isinstance(item, str) else mol):
        mol = chem.MolFromSmiles(chem.MolToSmiles(without_isotopes(mol)))
    return mol


class FeatureEncoder(torch.nn.Module):
    """Sum of one embedding per categorical feature column (OGB ``AtomEncoder``/``BondEncoder``).

    Same function and initialisation as the OGB encoders (each table Xavier-uniform), stored
    as one table with per-column offsets so a forward pass is a single look-up.

    Parameters
    ----------
    feature_dims
        Vocabulary size of each column (``ATOM_FEATURE_DIMS`` or ``BOND_FEATURE_DIMS``).
    emb_dim
        Embedding width.
    """

    def __init__(self, feature_dims: Sequence[int], emb_dim: int) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(int(sum(feature_dims)), emb_dim)
        offsets = np.concatenate([[0], np.cumsum(feature_dims)[:-1]])
        self.register_buffer(
            "offsets", torch.as_tensor(offsets, dtype=torch.long), persistent=False
        )
        with torch.no_grad():
            for off, dim in zip(offsets, feature_dims):
                torch.nn.init.xavier_uniform_(self.embedding.weight[int(off) : int(off) + dim])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # embedding_bag sums the looked-up rows without materialising [n, columns, emb_dim].
        return torch.nn.functional.embedding_bag(
            x + self.offsets, self.embedding.weight, mode="sum"
        )
