"""Crash safety and distributed training, with real processes.

- resume: a training process is killed with SIGKILL after its first checkpoint; a new
  process resumes it; the final weights equal those of an uninterrupted run (same data
  order, optimizer, scheduler and RNG state).
- DDP: ``torchrun --nproc_per_node 2`` with 8 molecules per rank reaches the same weights
  as one process with batches of 16.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HELPER = Path(__file__).with_name("molmtd_train_helpers.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OUTDATED_IGNORE": "1"}


def _last_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    pointer = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    return load_file(str(run_dir / "checkpoints" / pointer["last"] / "model.safetensors"))


def _last_step(run_dir: Path) -> int:
    path = run_dir / "checkpoints" / "latest.json"
    try:
        return int(json.loads(path.read_text())["last"].split("-")[1])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return -1


def test_kill9_and_resume_matches_uninterrupted_run(tmp_path):
    # dropout on: the resumed run must also continue the exact RNG stream
    steps = 40
    args = ["--steps", "40", "--checkpoint-every", "5", "--eval-every", "20", "--dropout", "0.2"]
    killed = tmp_path / "killed"
    # killed by itself right after its third checkpoint (step 15): a known point, not a race
    proc = subprocess.run(
        [sys.executable, str(HELPER), str(killed), *args, "--die-after-checkpoints", "3"],
        env=ENV,
        capture_output=True,
        timeout=300,
    )
    from molmtd_train_helpers import main

    main([str(tmp_path / "reference"), *args])  # uninterrupted reference
    at_kill = _last_step(killed)
    assert proc.returncode == -signal.SIGKILL
    assert at_kill == 15 < steps, f"kill landed at checkpoint {at_kill}"
    assert not (killed / "student").exists()
    out = subprocess.run(
        [sys.executable, str(HELPER), str(killed), *args, "--resume"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    ref, res = _last_weights(tmp_path / "reference"), _last_weights(killed)
    assert ref.keys() == res.keys()
    for key in ref:
        torch.testing.assert_close(res[key], ref[key], rtol=0, atol=0, msg=key)
    # the log holds every step once despite the crash
    import pandas as pd

    log = pd.read_csv(killed / "log.csv")
    train_steps = log[log["split"] == "train"]["step"].tolist()
    assert train_steps == list(range(5, steps + 1, 5))


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_torchrun_two_ranks_match_single_process(tmp_path):
    args = ["--steps", "8", "--checkpoint-every", "4", "--eval-every", "4"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(HELPER),
            str(tmp_path / "ddp"),
            *args,
            "--batch",
            "16",
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    from molmtd_train_helpers import main

    main([str(tmp_path / "single"), *args, "--batch", "16"])
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output[-3000:]
    ddp, single = _last_weights(tmp_path / "ddp"), _last_weights(tmp_path / "single")
    assert _last_step(tmp_path / "ddp") == 8
    for key in single:
        torch.testing.assert_close(ddp[key], single[key], rtol=1e-4, atol=2e-5, msg=key)
    # training moved the weights well beyond the tolerance (the comparison is not vacuous)
    from molmtd_train_helpers import small_config

    from molmtd.backbones import build_backbone
    from molmtd.utils import seed_everything

    seed_everything(0)
    init = build_backbone(small_config().backbone).state_dict()
    moved = max(float((single[f"backbone.{k}"] - v).abs().max()) for k, v in init.items())
    assert moved > 1e-2
    meta = json.loads((tmp_path / "ddp" / "student" / "meta.json").read_text())
    assert meta["world_size"] == 2
    log_ddp = (tmp_path / "ddp" / "log.csv").read_text()
    log_single = (tmp_path / "single" / "log.csv").read_text()
    assert log_ddp.count("\n") == log_single.count("\n")
