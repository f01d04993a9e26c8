"""Benchmark datasets: official TDC files untouched, row accounting, cleaning rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from molmtd.data.datasets import (
    clean_rows,
    load_moleculenet,
    load_paper_task,
    load_tdc_admet,
    read_index,
    verify_file,
)
from molmtd.data.paths import shared_data_dir
from molmtd.data.splits import murcko_scaffold

DATA = shared_data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="shared benchmark data not available")


@needs_data
def test_tdc_official_test_set_untouched():
    task = load_tdc_admet("caco2_wang")
    index = read_index(DATA)
    n_tv = index["tdc_admet_group/caco2_wang/train_val.csv"][0]
    n_te = index["tdc_admet_group/caco2_wang/test.csv"][0]
    assert len(task) == n_tv + n_te
    test_file = pd.read_csv(DATA / "tdc_admet_group/caco2_wang/test.csv")
    for seed in (1, 2):
        sp = task.split(seed)
        assert len(sp["test"]) == len(test_file) == n_te
        assert [task.smiles[i] for i in sp["test"]] == test_file["Drug"].tolist()
        assert np.allclose(task.y[sp["test"], 0], test_file["Y"].to_numpy())
        assert not set(sp["test"]) & (set(sp["train"]) | set(sp["valid"]))
        assert len(sp["train"]) + len(sp["valid"]) + len(sp["omitted"]) == n_tv
    assert task.metric == "mae" and task.task_type == "regression"


def test_verify_file_rejects_wrong_hash(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "INDEX.tsv").write_text("path\trows\tsha256_16\na.csv\t1\t0000000000000000\n")
    with pytest.raises(ValueError, match="sha256"):
        verify_file(tmp_path, "a.csv")


def test_clean_rows_rule():
    smiles = ["OCC", "CCO", "c1ccccc1", "C1=CC=CC=C1", "xyz", "CCN", "NCC", "CC"]
    y = np.array([[1.0, np.nan], [1.0, 0.0], [0, 1], [0, 1], [1, 1], [1, 0], [0, 0], [2, 2]])
    kept, y_out, notes = clean_rows(smiles, y, "classification")
    assert kept == ["CCO", "c1ccccc1", "CC"]  # file order; CCN/NCC conflict -> both dropped
    assert np.array_equal(y_out, [[1, 0], [0, 1], [2, 2]])  # NaN filled from the duplicate
    assert notes == {
        "n_raw": 8,
        "n_unparsable": 1,
        "n_duplicate_merged": 2,
        "n_duplicate_averaged": 0,
        "n_conflict_dropped": 2,
        "n_rows": 3,
    }
    # regression: differing duplicates are averaged, not dropped
    kept, y_out, notes = clean_rows(["CCN", "C", "NCC", "CCN"], np.array([1.0, 5.0, 2.0, 6.0]),
                                    "regression")  # fmt: skip
    assert kept == ["CCN", "C"]
    assert np.allclose(y_out[:, 0], [3.0, 5.0])
    assert notes["n_duplicate_averaged"] == 2 and notes["n_conflict_dropped"] == 0


def test_clean_rows_drops_blank_smiles():
    # RDKit parses "" into a zero-atom molecule; it is not a row we can embed
    kept, _, notes = clean_rows(["", "  ", "CCO", "*"], np.array([0.0, 1.0, 1.0, 0.0]))
    assert kept == ["CCO", "*"] and notes["n_unparsable"] == 2


@needs_data
def test_moleculenet_bbbp_rows_and_scaffold_split():
    task = load_moleculenet("bbbp")
    n = task.notes
    assert n["n_raw"] == 2050 and n["n_unparsable"] == 11
    assert n["n_rows"] == 2050 - 11 - n["n_duplicate_merged"] - n["n_conflict_dropped"]
    assert n["n_duplicate_merged"] > 0  # bbbp repeats some molecules: reported, not silent
    assert len(task) == n["n_rows"]
    sp = task.split(1)
    assert sum(len(v) for v in sp.values()) == len(task)
    scaf = {k: {murcko_scaffold(task.smiles[i], True) for i in v} for k, v in sp.items()}
    assert not scaf["train"] & scaf["valid"] and not scaf["train"] & scaf["test"]
    assert not scaf["valid"] & scaf["test"]
    assert abs(len(sp["train"]) / len(task) - 0.8) < 0.02


@needs_data
def test_moleculenet_multitask_keeps_missing_labels():
    task = load_moleculenet("clintox")
    assert task.y.shape[1] == 2 and task.label_names == ["FDA_APPROVED", "CT_TOX"]
    assert task.notes["n_raw"] == 1484


def test_tdc_offline_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLMTD_DATA_DIR", str(tmp_path))  # empty: no official files
    task = load_tdc_admet("hia_hou")
    assert task.source.startswith("molalkit wheel") and "official test set rebuilt" in task.source
    assert task.comparable and task.notes["official_test_rows"] == "117 of 117 official rows"
    sp = task.split(1)
    assert not set(sp["test"]) & (set(sp["train"]) | set(sp["valid"]))
    assert len(sp["test"]) + len(sp["train"]) + len(sp["valid"]) == len(task)
    assert len(sp["test"]) == 117 and task.notes["n_raw"] == 578 == len(task)


def test_paper_task_random_split():
    task = load_paper_task("dili")
    assert task.notes["n_raw"] == 475 and task.metric == "auroc"
    a, b = task.split(1), task.split(2)
    assert len(a["test"]) == len(task) - int(0.8 * len(task)) - int(0.1 * len(task))
    assert not np.array_equal(a["test"], b["test"])
