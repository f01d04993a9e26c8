"""``molmtd distill`` on a real TeacherStore (MACCS + ErG teachers on NCI molecules)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from molmtd_train_helpers import nci_targets

from molmtd.cli import main


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from molmtd.store import TeacherStore, build_teacher
    from molmtd.teachers.base import get_teacher

    path = tmp_path_factory.mktemp("store") / "nci"
    smiles, _ = nci_targets(200)
    store = TeacherStore.create(path, [*smiles, "not a smiles"], chunk_size=64)
    for name in ("maccs", "erg"):
        build_teacher(store, get_teacher(name), n_jobs=1, progress=False)
    return path


def test_cli_distill_on_store_then_resume(store_path, tmp_path, capsys):
    out = tmp_path / "run"
    common = [
        "distill",
        "--config",
        "small",
        "--store",
        str(store_path),
        "--out",
        str(out),
        "--no-progress",
    ]
    assert (
        main(
            [
                *common,
                "--max-steps",
                "4",
                "--batch-size",
                "32",
                "--set",
                "backbone.hidden=32",
                "--set",
                "checkpoint_every=2",
            ]
        )
        == 0
    )
    meta = json.loads((out / "student" / "meta.json").read_text())
    assert set(meta["teachers"]) == {"maccs", "erg"}
    assert all(len(t["config_hash"]) > 0 for t in meta["teachers"].values())
    assert meta["backbone"]["hidden"] == 32 and meta["data"]["store"] == str(store_path)
    assert meta["step"] == 4
    # extend the run: resume from step 4 to step 6 with the same settings
    assert (
        main(
            [
                *common,
                "--max-steps",
                "6",
                "--batch-size",
                "32",
                "--set",
                "backbone.hidden=32",
                "--set",
                "checkpoint_every=2",
                "--resume",
            ]
        )
        == 0
    )
    pointer = json.loads((out / "checkpoints" / "latest.json").read_text())
    assert pointer["last"] == "step-00000006"
    assert "done: step 6" in capsys.readouterr().out
    from molmtd.training import load_student

    emb = load_student(out).embed(["CCO", "c1ccccc1O"])
    assert emb.shape == (2, 64) and np.isfinite(emb).all()


def test_cli_rejects_unknown_option(store_path, tmp_path):
    with pytest.raises(KeyError, match="unknown training option"):
        main(
            [
                "distill",
                "--config",
                "small",
                "--store",
                str(store_path),
                "--out",
                str(tmp_path / "x"),
                "--set",
                "ephocs=2",
            ]
        )


def test_cli_overrides_resolve_into_train_config():
    from molmtd.cli import build_parser
    from molmtd.cli.distill import config_from_args

    args = build_parser().parse_args(
        [
            "distill",
            "--config",
            "small",
            "--loss",
            "mse",
            "--epochs",
            "7",
            "--teachers",
            "a,b",
            "--set",
            "loss_kwargs.hidden=32",
            "--set",
            "backbone.readout=last",
            "--set",
            "patience=null",
        ]
    )
    cfg = config_from_args(args)
    assert (cfg.loss, cfg.loss_kwargs, cfg.epochs, cfg.teachers) == (
        "mse",
        {"hidden": 32},
        7,
        ["a", "b"],
    )
    assert cfg.backbone["readout"] == "last" and cfg.patience is None
    default = config_from_args(build_parser().parse_args(["distill", "--config", "default"]))
    assert default.backbone["name"] == "gine" and default.loss == "nll"
