"""Molecule standardisation shared by the Featurizer, the benchmark and the teacher store.

Modes (:data:`Standardize`):

- ``"none"``: the molecule as given;
- ``"largest_fragment"``: keep the largest fragment (organic fragments preferred), which
  strips counterions, salts and solvents (``CCN.Cl`` -> ``CCN``);
- ``"parent"``: the largest fragment, then neutralised where a neutral form exists
  (``CC[NH3+].[Cl-]`` -> ``CCN``; quaternary ammoniums keep their charge). This is RDKit's
  charge parent without ``rdMolStandardize.Cleanup``, which costs about 8x more and changes
  little for molecules that parse.

Molecules that need no change are returned as the same object, so the common case (one
neutral fragment) costs one fragment count and one pass over the atoms.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, get_args

Standardize = Literal["none", "largest_fragment", "parent"]
MODES: tuple[str, ...] = get_args(Standardize)


def check_mode(mode: str) -> Standardize:
    """``mode`` if it is a standardisation mode, else ``ValueError`` listing them."""
    if mode not in MODES:
        raise ValueError(f"standardize must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    return mode  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def _tools() -> tuple[Any, Any]:
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return rdMolStandardize.LargestFragmentChooser(preferOrganic=True), rdMolStandardize.Uncharger()


def standardize_mol(mol: Any, mode: Standardize) -> Any | None:
    """Standardise an RDKit ``Mol`` (not modified); None if RDKit cannot.

    Parameters
    ----------
    mol
        A sanitised RDKit molecule.
    mode
        ``"none"``, ``"largest_fragment"`` or ``"parent"`` (module docstring).

    Returns
    -------
    Mol or None
        ``mol`` itself when nothing changes, a new molecule otherwise, None when RDKit
        cannot split the fragments. A fragment that cannot be neutralised stays charged.
    """
    from rdkit import Chem

    if mode == "none":
        return mol
    check_mode(mode)
    chooser, uncharger = _tools()
    try:
        if len(Chem.GetMolFrags(mol)) > 1:
            mol = chooser.choose(mol)
    except (RuntimeError, ValueError):  # RDKit's MolSanitizeException etc.
        return None
    if mode == "parent" and any(atom.GetFormalCharge() for atom in mol.GetAtoms()):
        # No valid neutral form (e.g. [PF6-] -> hypervalent [PH]F6): keep the charged one.
        try:
            neutral = uncharger.uncharge(mol)
        except (RuntimeError, ValueError):
            neutral = None
        if neutral is not None and not Chem.SanitizeMol(neutral, catchErrors=True):
            mol = neutral
    return mol if mol.GetNumAtoms() else None


def standardize_smiles(smiles: str, mode: Standardize) -> str | None:
    """Canonical SMILES of the standardised molecule; None if it does not parse.

    With ``mode="none"`` this is the canonical SMILES of the input.
    """
    from rdkit import Chem

    from molmtd.utils import parse_mol, rdkit_quiet

    with rdkit_quiet():
        mol = parse_mol(smiles)
        if mol is None:
            return None
        mol = standardize_mol(mol, mode)
        return None if mol is None else Chem.MolToSmiles(mol)
