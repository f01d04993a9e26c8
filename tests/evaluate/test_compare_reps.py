"""benchmarks/compare_reps.py: seed-paired differences between two representations."""

from __future__ import annotations

import pandas as pd
import pytest
from script_loader import load_script


def _module():
    return load_script("benchmarks/tools/compare_reps.py")


def _rows(task: str, rep: str, scores: list[float], higher: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {"task": task, "rep": rep, "seed": [1, 2, 3], "score": scores, "higher_is_better": higher}
    )


def test_paired_differences_follow_the_metric_direction():
    results = pd.concat(
        [
            _rows("auc_task", "a", [0.80, 0.70, 0.90], True),
            _rows("auc_task", "b", [0.81, 0.71, 0.91], True),
            _rows("mae_task", "a", [1.0, 2.0, 3.0], False),
            _rows("mae_task", "b", [1.5, 2.5, 3.5], False),
        ],
        ignore_index=True,
    )
    table = _module().paired_differences(results, "a", "b")
    assert table.loc["auc_task", "mean_diff"] == pytest.approx(0.01)
    assert table.loc["auc_task", "std_diff"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["auc_task", "seed_std_base"] == pytest.approx(0.1)
    assert table.loc["auc_task", "better"] == pytest.approx(0.01)  # higher AUROC: b better
    assert table.loc["mae_task", "better"] == pytest.approx(-0.5)  # higher MAE: b worse


def test_better_counts_are_out_of_the_tasks_both_have(tmp_path, capsys):
    results = pd.concat(
        [
            _rows("auc_task", "a", [0.80, 0.70, 0.90], True),
            _rows("auc_task", "b", [0.81, 0.71, 0.91], True),
            _rows("mae_task", "a", [1.0, 2.0, 3.0], False),
            _rows("mae_task", "b", [1.5, 2.5, 3.5], False),
            _rows("mae_task", "c", [2.0, 2.5, 3.5], False),
        ],
        ignore_index=True,
    )
    extra = {"metric": "score", "n_test": 10, "n_invalid_train": 0, "n_invalid_test": 0}
    path = tmp_path / "results.csv"
    results.assign(**extra).to_csv(path, index=False)
    assert _module().main([str(path), "--rep", "a"]) == 0
    lines = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[-2:]}
    assert lines == {"b": ["1", "of", "2"], "c": ["1", "of", "1"]}
