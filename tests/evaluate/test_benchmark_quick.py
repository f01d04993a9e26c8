"""End to end: ``molmtd benchmark --quick`` writes results, summary, markdown and plots."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from molmtd.cli import main
from molmtd.data.paths import shared_data_dir


@pytest.mark.skipif(shared_data_dir() is None, reason="shared benchmark data not available")
def test_quick_benchmark_end_to_end(tmp_path, capsys):
    args = [
        "benchmark",
        "--suite",
        "tdc-admet",
        "--quick",
        "--reps",
        "ecfp,ecfp2",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert main(args) == 0
    d = tmp_path / "out" / "tdc_admet"
    res = pd.read_csv(d / "results_mlp_quick.csv")
    assert len(res) == 4 * 2 * 2  # tasks x reps x seeds
    assert set(res["seed"]) == {1, 2} and res["score"].notna().all()
    caco = res[res["task"] == "caco2_wang"]
    assert (caco["n_test"] == 182).all()  # every official test row scored
    assert (caco["metric"] == "mae").all()
    md = (d / "report_mlp_quick.md").read_text()
    assert "Mean rank" in md and "Win / tie / loss vs ecfp" in md
    for name in ("tasks_mlp_quick.png", "ranks_mlp_quick.png", "summary_mlp_quick.csv"):
        assert (d / name).stat().st_size > 0
    record = json.loads((d / "results_mlp_quick.provenance.json").read_text())
    assert record["versions"]["rdkit"] and record["representations"]["ecfp"] == {"rep": "ecfp"}
    # resumable: a second run finds everything done and adds no rows
    capsys.readouterr()
    assert main(args) == 0
    assert "[run]" not in capsys.readouterr().out
    assert len(pd.read_csv(d / "results_mlp_quick.csv")) == 16
    # report-only on a subset of reps summarises existing rows without computing
    assert main([*args, "--report-only", "--reps", "ecfp2"]) == 0
    assert "[run]" not in capsys.readouterr().out


def test_report_only_without_results(tmp_path, capsys):
    args = ["benchmark", "--quick", "--report-only", "--reps", "ecfp", "--out", str(tmp_path)]
    assert main(args) == 1  # nothing computed, nothing to report
    assert "no results" in capsys.readouterr().out
    assert not (tmp_path / "tdc_admet" / "results_mlp_quick.csv").exists()
