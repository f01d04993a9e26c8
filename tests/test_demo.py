"""``make demo`` prints what ``molmtd benchmark`` computes for the same tasks, head and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from molmtd.cli import demo
from molmtd.cli import main as cli_main
from molmtd.evaluate.report import summarize


def test_demo_table_equals_benchmark(tmp_path, capsys):
    no_data = tmp_path / "no_data"  # empty: the offline copy, as on a fresh machine
    no_data.mkdir()
    common = ["--tasks", "hia_hou", "--reps", "ecfp,student:default", "--seeds", "2",
              "--data-dir", str(no_data)]  # fmt: skip
    assert demo.main([*common, "--head", "mlp", "--out", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    bench = ["benchmark", "--suite", "tdc-admet", *common, "--head", "mlp",
             "--out", str(tmp_path / "bench"), "--cache-dir", str(tmp_path / "bench_cache")]  # fmt: skip
    assert cli_main(bench) == 0
    bench_printed = capsys.readouterr().out
    assert (
        "hia_hou: official, rebuilt offline (117 of 117 official rows); molalkit" in bench_printed
    )
    keys = ["task", "rep", "seed"]
    ours = pd.read_csv(tmp_path / "demo/tdc_admet/results_mlp.csv").sort_values(keys)
    theirs = pd.read_csv(tmp_path / "bench/tdc_admet/results_mlp.csv").sort_values(keys)
    assert len(ours) == len(theirs) == 4
    assert np.array_equal(ours["score"].to_numpy(), theirs["score"].to_numpy())
    for row in summarize(theirs).itertuples():  # the printed table shows these numbers
        assert f"{row.mean:.3f} ± {row.std:.3f}" in printed
    assert "hia_hou: official, rebuilt offline (117 of 117 official rows)" in printed
    assert "ECFP4 counts" in printed and "mol/s (578 molecules" in printed
    header = next(line for line in printed.splitlines() if line.startswith("task (test rows"))
    assert header.split()[-1] == "best" and "molmtd default" in header
