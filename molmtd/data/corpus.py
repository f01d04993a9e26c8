"""Unlabelled SMILES corpora for building teacher stores.

Sources
-------
``"moses"``
    MOSES train split (1,584,663 SMILES) read from the ``molsets`` wheel
    (``moses/dataset/data/train.csv.gz``, column ``SMILES``; MIT licence).
``"moses-test"``
    MOSES test split (176,074 SMILES) from the same wheel.
``"zinc250k"``
    ZINC250k (249,455 SMILES, one per line) at ``shared_data_dir()/corpora/zinc250k.smi.gz``.
path
    A ``.smi``/``.txt`` file (one SMILES per line, optionally followed by whitespace and a name;
    a first line whose first token is ``smiles`` is treated as a header) or a ``.csv``/``.tsv``
    file (column ``smiles_col``, auto-detected among common names when not given). ``.gz``
    compressed files are read transparently.

Selection, canonicalisation and de-duplication rule
---------------------------------------------------
The raw rows are visited in the order of a seeded permutation (``numpy.random.default_rng(seed)
.permutation``; ``seed=None`` keeps file order). Each SMILES is parsed with RDKit and written
as RDKit canonical isomeric SMILES. Unparsable entries are skipped; an entry whose canonical
SMILES was already seen is a duplicate and skipped (the first occurrence in visiting order is
kept). Visiting stops once ``n`` molecules are kept (``n=None``: all rows). Hence the result is
the first ``n`` distinct valid molecules of the permuted corpus, and ``load_corpus(src, n=1000)``
is a prefix of ``load_corpus(src, n=2000)`` with the same seed. Counts of unparsable and
duplicate entries seen are logged and returned in ``.report``: nothing is dropped silently.
"""

from __future__ import annotations

import gzip
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from molmtd.data.paths import package_file, shared_data_dir
from molmtd.utils import parse_mol, rdkit_quiet

log = logging.getLogger(__name__)

#: Named corpora and their expected raw row counts (checked when fully read).
CORPORA: dict[str, int] = {
    "moses": 1_584_663,
    "moses-test": 176_074,
    "zinc250k": 249_455,
}

_SMILES_COLUMNS = ("smiles", "SMILES", "Smiles", "canonical_smiles", "Drug", "mol", "smi")


@dataclass
class CorpusReport:
    """What :func:`load_corpus` did.

    Attributes
    ----------
    source
        The source name or path.
    n_raw
        Rows in the source file.
    n_visited
        Rows parsed before ``n`` molecules were collected.
    n_kept
        Molecules returned.
    n_invalid, n_duplicate
        Unparsable and duplicate entries among the visited rows.
    standardize, n_standardized
        The standardisation mode (:mod:`molmtd.standardize`) and how many kept molecules it
        changed.
    invalid
        ``(raw_row, smiles)`` of the first 1,000 unparsable entries; ``raw_row`` is the 0-based
        index among the file's entries (header and blank lines excluded).
    """

    source: str
    n_raw: int = 0
    n_visited: int = 0
    n_kept: int = 0
    n_invalid: int = 0
    n_duplicate: int = 0
    seed: int | None = 0
    standardize: str = "none"
    n_standardized: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_raw": self.n_raw,
            "n_visited": self.n_visited,
            "n_kept": self.n_kept,
            "n_invalid": self.n_invalid,
            "n_duplicate": self.n_duplicate,
            "seed": self.seed,
            "standardize": self.standardize,
            "n_standardized": self.n_standardized,
            "invalid": [list(x) for x in self.invalid],
        }

    def __str__(self) -> str:
        return (
            f"corpus {self.source}: {self.n_kept} molecules kept from {self.n_visited} visited "
            f"of {self.n_raw} rows ({self.n_invalid} unparsable, {self.n_duplicate} duplicates)"
        )


class Corpus(list):
    """A ``list[str]`` of canonical SMILES with a :class:`CorpusReport` as ``.report``."""

    report: CorpusReport


def corpus_path(source: str) -> Path:
    """File behind a named corpus (or ``source`` itself when it is a path)."""
    if source == "moses":
        return package_file("moses", "dataset/data/train.csv.gz")
    if source == "moses-test":
        return package_file("moses", "dataset/data/test.csv.gz")
    if source == "zinc250k":
        root = shared_data_dir()
        if root is None or not (root / "corpora" / "zinc250k.smi.gz").is_file():
            raise FileNotFoundError(
                "zinc250k needs the shared data folder (set $MOLMTD_DATA_DIR to a folder "
                "containing corpora/zinc250k.smi.gz)"
            )
        return root / "corpora" / "zinc250k.smi.gz"
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"corpus {source!r} is neither a known name ({', '.join(CORPORA)}) nor a file"
        )
    return path


def read_raw_smiles(source: str, smiles_col: str | None = None) -> list[str]:
    """All raw SMILES strings of a corpus, in file order (no parsing, no filtering)."""
    path = corpus_path(source)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in (".csv", ".tsv") or source in ("moses", "moses-test"):
        import pandas as pd

        df = pd.read_csv(path, sep="\t" if ext == ".tsv" else ",", dtype=str, keep_default_na=False)
        col = smiles_col or ("SMILES" if source.startswith("moses") else None)
        if col is None:
            found = [c for c in _SMILES_COLUMNS if c in df.columns]
            if not found:
                raise ValueError(
                    f"{path}: no SMILES column among {list(df.columns)}; pass smiles_col"
                )
            col = found[0]
        if col not in df.columns:
            raise ValueError(f"{path}: column {col!r} not in {list(df.columns)}")
        return df[col].astype(str).str.strip().tolist()
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8").read()
    out = []
    for i, line in enumerate(text.splitlines()):
        tokens = line.split()
        if not tokens:
            continue  # blank lines are not entries
        if i == 0 and tokens[0].lower() in ("smiles", "smi"):
            continue  # header
        out.append(tokens[0])
    return out


def canonical_smiles(smiles: str) -> str | None:
    """RDKit canonical isomeric SMILES, or None when ``smiles`` does not parse."""
    from rdkit import Chem

    mol = parse_mol(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def load_corpus(
    source: str,
    n: int | None = None,
    seed: int | None = 0,
    *,
    smiles_col: str | None = None,
    standardize: str = "none",
) -> Corpus:
    """Load canonical, de-duplicated SMILES from a named corpus or a file.

    Parameters
    ----------
    source
        ``"moses"``, ``"moses-test"``, ``"zinc250k"`` or a path to ``.smi``/``.txt``/``.csv``
        (optionally ``.gz``).
    n
        Number of molecules to return (all when None). Fewer are returned only when the corpus
        has fewer distinct valid molecules.
    seed
        Seed of the permutation the rows are visited in; ``None`` visits rows in file order.
    smiles_col
        CSV column holding SMILES (auto-detected when None).
    standardize
        ``"none"``, ``"largest_fragment"`` or ``"parent"`` (:mod:`molmtd.standardize`): each
        molecule is standardised before canonicalisation and de-duplication, so that the
        teachers see the molecules the Featurizer will embed with the same option.

    Returns
    -------
    Corpus
        A list of canonical SMILES (see the module docstring for the exact rule) with the
        counts of unparsable/duplicate entries in ``.report``.
    """
    from molmtd.standardize import check_mode

    mode = check_mode(standardize)
    raw = read_raw_smiles(source, smiles_col=smiles_col)
    report = CorpusReport(source=str(source), n_raw=len(raw), seed=seed, standardize=mode)
    if source in CORPORA and len(raw) != CORPORA[source]:
        raise ValueError(f"corpus {source}: {len(raw)} rows, expected {CORPORA[source]}")
    order = (
        np.arange(len(raw)) if seed is None else np.random.default_rng(seed).permutation(len(raw))
    )
    target = len(raw) if n is None else int(n)
    if target < 0:
        raise ValueError("n must be >= 0")
    kept = _collect(raw, order, target, mode, report)
    report.n_kept = len(kept)
    kept.report = report
    if report.n_invalid or report.n_duplicate:
        log.warning("%s", report)
    else:
        log.info("%s", report)
    return kept


def _standardized_canonical(smiles: str, mode: str) -> tuple[str | None, bool]:
    """Canonical SMILES of ``smiles`` after standardisation ``mode``, and whether it changed it.

    None when ``smiles`` does not parse or standardisation leaves no molecule.
    """
    from molmtd.standardize import standardize_smiles

    can = canonical_smiles(smiles)
    if can is None or mode == "none":
        return can, False
    standardized = standardize_smiles(can, mode)
    return standardized, standardized is not None and standardized != can


def _collect(
    raw: list[str], order: np.ndarray, target: int, mode: str, report: CorpusReport
) -> Corpus:
    """Visit ``raw[order]`` until ``target`` distinct valid molecules are kept.

    Counts visited, unparsable, duplicate and standardised entries in ``report``.
    """
    kept = Corpus()
    seen: set[str] = set()
    with rdkit_quiet():
        for raw_row in order:
            if len(kept) >= target:
                break
            report.n_visited += 1
            smi = raw[int(raw_row)]
            can, changed = _standardized_canonical(smi, mode)
            if can is None:
                report.n_invalid += 1
                if len(report.invalid) < 1000:
                    report.invalid.append((int(raw_row), smi))
                continue
            if can in seen:
                report.n_duplicate += 1
                continue
            seen.add(can)
            kept.append(can)
            if changed:
                report.n_standardized += 1
    return kept
