"""OGB's atom and bond vocabularies: what every graph feature of :mod:`molmtd.backbones` means."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def _ogb_allowable_features() -> dict[str, list[Any]]:
    """``ogb.utils.features.allowable_features``: OGB's atom and bond vocabularies.

    Read from OGB's own module, loaded by file: importing the ``ogb`` package starts a thread
    that asks PyPI for a newer version, which featurising in every worker must not do.
    """
    spec = importlib.util.find_spec("ogb")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("molmtd's graph features need ogb (pip install 'ogb>=1.3.6')")
    path = Path(next(iter(spec.submodule_search_locations))) / "utils" / "features.py"
    module_spec = importlib.util.spec_from_file_location("_molmtd_ogb_features", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.allowable_features


#: The vocabulary of every atom and bond feature, OGB's (``tests/backbones`` checks that the
#: graphs equal ``ogb.utils.smiles2graph``'s on thousands of molecules).
ALLOWABLE_FEATURES: dict[str, list[Any]] = _ogb_allowable_features()
_ATOM_KEYS = (
    "possible_atomic_num_list",
    "possible_chirality_list",
    "possible_degree_list",
    "possible_formal_charge_list",
    "possible_numH_list",
    "possible_number_radical_e_list",
    "possible_hybridization_list",
    "possible_is_aromatic_list",
    "possible_is_in_ring_list",
)
_BOND_KEYS = ("possible_bond_type_list", "possible_bond_stereo_list", "possible_is_conjugated_list")
ATOM_FEATURE_DIMS: list[int] = [len(ALLOWABLE_FEATURES[k]) for k in _ATOM_KEYS]
BOND_FEATURE_DIMS: list[int] = [len(ALLOWABLE_FEATURES[k]) for k in _BOND_KEYS]
