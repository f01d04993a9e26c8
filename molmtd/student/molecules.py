"""Molecules in: parsing, standardising and featurising inputs, and naming bad ones.

What the :class:`~molmtd.featurizer.Featurizer` and the student module do with their input
before any forward pass: a list of SMILES strings or RDKit molecules becomes OGB graphs (or
a rejection that names the input), in chunks, in this process or a pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from molmtd.errors import UserError
from molmtd.standardize import Standardize, standardize_mol
from molmtd.utils import parse_mol, rdkit_quiet

_WAVE = 4  # chunks per process featurised before the pool waits for the forward pass


class InvalidMoleculeError(UserError, ValueError):
    """An input could not be turned into a molecule; names its index and SMILES.

    Attributes ``index`` (position in the input), ``shown`` (the input as quoted, cut to
    200 characters) and ``reason``.
    """

    def __init__(self, index: int, shown: str, reason: str) -> None:
        self.index, self.shown, self.reason = int(index), shown, reason
        super().__init__(f"input {self.index} ({shown!r}) {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.index, self.shown, self.reason)

    def shifted(self, offset: int) -> InvalidMoleculeError:
        """The same error for an input ``offset`` rows further on (a chunk of a file)."""
        return type(self)(self.index + offset, self.shown, self.reason)


class Rejected(NamedTuple):
    """Why an input has no graph: it does not parse, or the featuriser refused it."""

    unparsable: bool
    detail: str = ""


def _shown(item: Any, limit: int = 200) -> str:
    """How an input is named in error messages (cut to ``limit`` characters)."""
    from rdkit import Chem

    if isinstance(item, Chem.Mol):
        return "<rdkit Mol>"
    text = item if isinstance(item, str) else repr(item)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def rejection_error(index: int, item: Any, why: Rejected, hint: bool = False) -> InvalidMoleculeError:
    """The one-line error for input ``index`` that was rejected for ``why``."""
    if why.unparsable:
        tail = (
            "; use on_error='nan' (--on-error nan) to get a NaN row and valid_mask_ instead"
            if hint
            else ""
        )
        return InvalidMoleculeError(index, _shown(item), f"is not a valid molecule{tail}")
    return InvalidMoleculeError(index, _shown(item), f"could not be featurised: {why.detail}")


def featurise_chunk(
    items: Sequence[Any], standardize: Standardize = "none"
) -> list[dict[str, np.ndarray] | Rejected]:
    """Parse, standardise and featurise ``items`` (SMILES or ``Mol``): a graph or rejection each.

    Runs in pool workers, so it takes and returns only picklable, compact objects.
    """
    from rdkit import Chem

    from molmtd.backbones.features import (
        canonical_mol,
        has_isotopes,
        mols_to_graphs,
        without_isotopes,
    )

    results: list[dict[str, np.ndarray] | Rejected | None] = []
    mols: list[Any] = []  # the molecules to featurise, for the results that are None
    with rdkit_quiet():
        for item in items:
            is_mol = isinstance(item, Chem.Mol)
            mol = item if is_mol else parse_mol(item)
            if mol is None or mol.GetNumAtoms() == 0:
                results.append(Rejected(unparsable=True))
                continue
            parsed, mol = mol, standardize_mol(mol, standardize)
            if mol is not None and has_isotopes(item if not is_mol and mol is parsed else mol):
                mol = without_isotopes(mol)  # isotope-labelled: featurised as the parent
            if mol is None:
                results.append(Rejected(unparsable=False, detail=f"{standardize} failed"))
                continue
            try:
                # a standardised molecule is no longer what its SMILES says: round-trip it
                mols.append(canonical_mol(mol, None if is_mol or mol is not parsed else item))
            except Exception as err:  # RDKit raises several types; report, don't crash
                results.append(Rejected(unparsable=False, detail=str(err)))
                continue
            results.append(None)
        graphs = iter(mols_to_graphs(mols))
    return [
        result if result is not None else _graph_or_rejected(next(graphs)) for result in results
    ]


def _graph_or_rejected(
    graph: dict[str, np.ndarray] | Exception,
) -> dict[str, np.ndarray] | Rejected:
    return Rejected(unparsable=False, detail=str(graph)) if isinstance(graph, Exception) else graph


def featurised_chunks(
    chunks: list[list[Any]], n_jobs: int, standardize: Standardize = "none"
) -> Iterator[list[dict[str, np.ndarray] | Rejected]]:
    """Featurised chunks, in order: in-process (``n_jobs=1``) or from ``n_jobs`` processes.

    For a forward pass on a GPU. The pool featurises ``_WAVE * n_jobs`` chunks at a time and
    then waits while the caller embeds them, so memory stays bounded.
    """
    if n_jobs <= 1 or len(chunks) <= 1:
        yield from (featurise_chunk(chunk, standardize) for chunk in chunks)
        return
    import functools
    import multiprocessing
    import sys

    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    work = functools.partial(featurise_chunk, standardize=standardize)
    wave = _WAVE * n_jobs
    with ctx.Pool(n_jobs) as pool:
        for i in range(0, len(chunks), wave):
            yield from pool.map(work, chunks[i : i + wave], chunksize=1)


def as_list(X: Any) -> list[Any]:
    """The inputs of ``X`` (a sequence, 1-D array or one-column pandas object) as a list."""
    if isinstance(X, str):
        raise TypeError("X must be a sequence of SMILES, not a single string; wrap it in a list")
    if hasattr(X, "iloc"):  # pandas
        if getattr(X, "ndim", 1) == 2:
            if X.shape[1] != 1:
                raise ValueError(f"expected one column of SMILES, got {X.shape[1]} columns")
            X = X.iloc[:, 0]
        return list(X.to_numpy())
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(f"expected a 1-D array of SMILES, got shape {X.shape}")
        return list(X)
    if isinstance(X, Iterable):
        return list(X)
    raise TypeError(f"cannot featurise an object of type {type(X).__name__}")


def standardised_smiles(items: Sequence[Any], standardize: Standardize) -> list[str | Rejected]:
    """Each input (SMILES or ``Mol``) parsed, standardised and written as canonical SMILES.

    For students that read SMILES (text backbones); graph students use
    :func:`featurise_chunk`. An input that does not parse, or has no atoms after
    standardising, is a :class:`Rejected`.
    """
    from rdkit import Chem

    out: list[str | Rejected] = []
    with rdkit_quiet():
        for item in items:
            mol = item if isinstance(item, Chem.Mol) else parse_mol(item)
            if mol is not None and mol.GetNumAtoms():
                mol = standardize_mol(mol, standardize)
            if mol is None or mol.GetNumAtoms() == 0:
                out.append(Rejected(unparsable=True))
            else:
                out.append(Chem.MolToSmiles(mol))
    return out
