"""Dataset splits: TDC-compatible scaffold split, OGB-style scaffold split, random split.

All functions take a sequence of SMILES (or a length) and return a dict of integer index
arrays into that sequence (``train``, ``valid``, ``test``), so callers never reorder or copy
rows themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from random import Random
from typing import Literal

import numpy as np

from molmtd.utils import rdkit_quiet

#: TDC ADMET-group fractions for the train/valid split of ``train_val.csv``
#: (``tdc.benchmark_group.BenchmarkGroup.get_train_valid_split``).
TDC_TRAIN_VALID_FRAC = (0.875, 0.125, 0.0)


def murcko_scaffold(smiles: str, include_chirality: bool = False) -> str | None:
    """Bemis-Murcko scaffold SMILES, or None when RDKit cannot parse ``smiles``."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    with rdkit_quiet():
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return None
        try:
            return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)
        except Exception:  # RDKit raises on a few exotic valences
            return None


def unsanitized_scaffold(smiles: str) -> str | None:
    """Murcko scaffold of the *unsanitised* graph (rings found without valence checks).

    For SMILES that parse but fail RDKit's sanitisation (e.g. a pentavalent nitrogen);
    None when even the unsanitised parse fails.
    """
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    with rdkit_quiet():
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        if mol is None:
            return None
        try:
            mol.UpdatePropertyCache(strict=False)
            Chem.FastFindRings(mol)
            return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
        except Exception:
            return None


def tdc_scaffold_split(
    smiles: Sequence[str],
    seed: int,
    frac: Sequence[float] = TDC_TRAIN_VALID_FRAC,
    unsanitizable: Literal["omit", "unsanitized"] = "omit",
) -> dict[str, np.ndarray]:
    """Replicate PyTDC's ``tdc.utils.split.create_scaffold_split`` exactly.

    The procedure (PyTDC 0.4-1.x):

    1. Murcko scaffold (``includeChirality=False``) of each SMILES; molecules RDKit cannot
       handle are *omitted* from every partition (returned here under ``"omitted"``).
    2. Scaffold sets in order of first appearance; ``n`` = number of scaffolded molecules;
       ``train_size = int(n * frac[0])``, ``val_size = int(n * frac[1])``,
       ``test_size = n - train_size - val_size``.
    3. A set is "big" if ``len > val_size / 2`` or ``len > test_size / 2`` (with the ADMET
       group's ``frac[2] == 0``, test_size is 0 or 1, so every set is "big"). Big and small
       lists are each shuffled by ``random.Random(seed)`` (seeded again with ``seed``), then
       concatenated big + small.
    4. Greedy fill: a set goes to train if it fits under ``train_size``; otherwise to valid
       (``frac[2] == 0``) or, when ``frac[2] > 0``, to valid if it fits under ``val_size``
       and to test otherwise.

    Indices keep TDC's order (Python set iteration within each scaffold set), so
    ``df.iloc[out["train"]]`` equals TDC's ``out["train"]`` row for row.

    Parameters
    ----------
    smiles
        Molecules (TDC column ``Drug``).
    seed
        The run seed (TDC ADMET group: 1-5).
    frac
        Train/valid/test fractions; the ADMET group uses ``(0.875, 0.125, 0.0)``.
    unsanitizable
        ``"omit"`` (PyTDC today): molecules without a scaffold are omitted as in step 1.
        ``"unsanitized"``: a molecule that fails sanitisation gets the scaffold of its
        unsanitised graph (:func:`unsanitized_scaffold`) and is split like the others. This
        reproduces the February 2021 ADMET-group files, evidently made with an RDKit that
        accepted such molecules: solubility_aqsoldb's two pentavalent-N pyridine oxides sit
        in its official test set, and only with them kept (they share one scaffold) does the
        split of the molalkit copy equal the official files row for row.

    Returns
    -------
    dict
        ``train``, ``valid``, ``test``, ``omitted`` index arrays (int64).
    """
    scaffolds, omitted = _tdc_scaffold_sets(smiles, unsanitizable)
    n = len(smiles) - len(omitted)
    train_size = int(n * frac[0])
    val_size = int(n * frac[1])
    test_size = n - train_size - val_size
    ordered = _tdc_shuffled_sets(scaffolds, seed, val_size, test_size)
    train, val, test = _tdc_greedy_fill(ordered, train_size, val_size, frac[2] == 0)
    return {
        "train": np.asarray(train, dtype=np.int64),
        "valid": np.asarray(val, dtype=np.int64),
        "test": np.asarray(test, dtype=np.int64),
        "omitted": np.asarray(omitted, dtype=np.int64),
    }


def _tdc_scaffold_sets(
    smiles: Sequence[str], unsanitizable: Literal["omit", "unsanitized"]
) -> tuple[dict[str, set[int]], list[int]]:
    """Step 1 of :func:`tdc_scaffold_split`: scaffold -> set of rows, and the omitted rows.

    The sets are Python sets filled in row order, as TDC's are: their iteration order is the
    order of the indices in the split.
    """
    scaffolds: dict[str, set[int]] = defaultdict(set)
    omitted: list[int] = []
    for i, smi in enumerate(smiles):
        scaf = murcko_scaffold(smi, include_chirality=False)
        if scaf is None and unsanitizable == "unsanitized":
            scaf = unsanitized_scaffold(smi)
        if scaf is None:
            omitted.append(i)
        else:
            scaffolds[scaf].add(i)
    return scaffolds, omitted


def _tdc_shuffled_sets(
    scaffolds: dict[str, set[int]], seed: int, val_size: int, test_size: int
) -> list[set[int]]:
    """Step 3 of :func:`tdc_scaffold_split`: big sets, then small ones, each list shuffled."""
    big, small = [], []
    for index_set in scaffolds.values():
        if len(index_set) > val_size / 2 or len(index_set) > test_size / 2:
            big.append(index_set)
        else:
            small.append(index_set)
    rng = Random(seed)
    rng.shuffle(big)
    rng.shuffle(small)
    return big + small


def _tdc_greedy_fill(
    ordered: Sequence[set[int]], train_size: int, val_size: int, no_test: bool
) -> tuple[list[int], list[int], list[int]]:
    """Step 4 of :func:`tdc_scaffold_split`: train, valid and test rows.

    A set goes to train if it fits under ``train_size``; otherwise to valid when there is no
    test part (``no_test``) or it fits under ``val_size``, and to test otherwise.
    """
    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    for index_set in ordered:
        if len(train) + len(index_set) <= train_size:
            train += index_set
        elif no_test or len(val) + len(index_set) <= val_size:
            val += index_set
        else:
            test += index_set
    return train, val, test


def ogb_scaffold_split(
    smiles: Sequence[str], frac: Sequence[float] = (0.8, 0.1, 0.1)
) -> dict[str, np.ndarray]:
    """Deterministic scaffold split as used by OGB / Hu et al. (2020) for MoleculeNet.

    Scaffolds with chirality (``includeChirality=True``); scaffold sets sorted by
    (size, first index) in descending order, i.e. largest sets first (ties: the set whose
    first molecule comes later goes first, exactly as ``sorted(..., reverse=True)`` in the
    reference code); greedily filled into train until ``frac[0] * N`` would be exceeded,
    then valid until ``(frac[0] + frac[1]) * N``, the rest test. Unparsable SMILES must be
    removed beforehand (they raise ``ValueError`` here).
    """
    sets: dict[str, list[int]] = defaultdict(list)
    for i, smi in enumerate(smiles):
        scaf = murcko_scaffold(smi, include_chirality=True)
        if scaf is None:
            raise ValueError(f"row {i}: cannot compute scaffold of {smi!r}; drop it first")
        sets[scaf].append(i)
    ordered = sorted(sets.values(), key=lambda s: (len(s), s[0]), reverse=True)
    n = len(smiles)
    train_cut = frac[0] * n
    valid_cut = (frac[0] + frac[1]) * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for s in ordered:
        if len(train) + len(s) > train_cut:
            if len(train) + len(valid) + len(s) > valid_cut:
                test += s
            else:
                valid += s
        else:
            train += s
    return {
        "train": np.asarray(sorted(train), dtype=np.int64),
        "valid": np.asarray(sorted(valid), dtype=np.int64),
        "test": np.asarray(sorted(test), dtype=np.int64),
    }


def deepchem_scaffold_split(
    smiles: Sequence[str], frac: Sequence[float] = (0.8, 0.1, 0.1)
) -> dict[str, np.ndarray]:
    """DeepChem's own ``dc.splits.ScaffoldSplitter`` (deterministic), as index arrays.

    The split of MoleculeNet results published with DeepChem (Bemis-Murcko scaffolds without
    chirality, largest scaffold sets first), run by DeepChem itself on a dataset whose ids
    are ``smiles``.
    """
    import deepchem as dc

    dataset = dc.data.NumpyDataset(
        X=np.zeros((len(smiles), 1), dtype=np.float32), ids=np.asarray(smiles, dtype=object)
    )
    train, valid, test = dc.splits.ScaffoldSplitter().split(
        dataset, frac_train=frac[0], frac_valid=frac[1], frac_test=frac[2]
    )
    return {
        "train": np.sort(np.asarray(train, dtype=np.int64)),
        "valid": np.sort(np.asarray(valid, dtype=np.int64)),
        "test": np.sort(np.asarray(test, dtype=np.int64)),
    }


def random_split(
    n: int, seed: int, frac: Sequence[float] = (0.8, 0.1, 0.1)
) -> dict[str, np.ndarray]:
    """Seeded random split of ``range(n)``: a permutation cut at ``int(frac * n)``."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(frac[0] * n)
    n_valid = int(frac[1] * n)
    return {
        "train": np.sort(perm[:n_train]),
        "valid": np.sort(perm[n_train : n_train + n_valid]),
        "test": np.sort(perm[n_train + n_valid :]),
    }
