"""Large inputs: streaming ``molmtd featurize --chunk-rows`` (with resume) and the Dask path.

Both write what the one-shot ``molmtd featurize`` writes, ``domain_score`` included: the
student here ships a domain reference, so the scores are finite for valid rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from molmtd.backbones import build_backbone
from molmtd.domain import DOMAIN_FILE, DomainReference
from molmtd.featurizer import Featurizer

VALID = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCC[C@H]1c1cccnc1", "O=C(O)c1ccccc1OC(C)=O"]
INPUTS = [*VALID, "not_a_smiles", *VALID[::-1], "C1CC", *VALID[1:4]]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    backbone = build_backbone({"name": "gine", "dim": 16, "hidden": 16, "num_layers": 2})
    folder = tmp_path_factory.mktemp("student")
    tensors = {f"backbone.{k}": v.contiguous() for k, v in backbone.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "meta.json").write_text(json.dumps({"backbone": backbone.config}))
    reference = np.random.default_rng(0).normal(size=(40, 16))
    DomainReference.build(reference, k=3).save(folder / DOMAIN_FILE)
    return folder


def _reference(student_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    feat = Featurizer(model=student_dir, on_error="nan", precision="float32")
    return feat.transform(INPUTS), feat.valid_mask_


def _one_shot(student_dir: Path, src: Path, out: Path) -> pd.DataFrame:
    """What ``molmtd featurize`` without ``--chunk-rows`` writes for ``src``, as a frame."""
    assert _cli(student_dir, src, out) == 0
    if out.suffix == ".npy":
        return _npy_frame(out)
    return pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out)


def _npy_frame(out: Path) -> pd.DataFrame:
    emb = np.load(out)
    frame = pd.DataFrame(emb, columns=[f"molmtd{i}" for i in range(emb.shape[1])])
    frame.insert(0, "valid", np.load(out.with_suffix(".valid.npy")))
    frame.insert(1, "domain_score", np.load(out.with_suffix(".domain_score.npy")))
    return frame


def _assert_same_rows(got: pd.DataFrame, one_shot: pd.DataFrame) -> None:
    """Same columns in the same order; equal inputs and ``valid``, close scores and rows."""
    assert got.columns.tolist() == one_shot.columns.tolist()
    np.testing.assert_array_equal(got["valid"].to_numpy(bool), one_shot["valid"].to_numpy(bool))
    score = got["domain_score"].to_numpy(np.float32)
    assert np.isnan(score).tolist() == (~got["valid"].to_numpy(bool)).tolist()
    np.testing.assert_allclose(
        score, one_shot["domain_score"].to_numpy(np.float32), rtol=1e-4, equal_nan=True
    )
    # input columns: equal values (Dask may read strings into another string dtype)
    made = ["valid", "domain_score", *(c for c in got.columns if c.startswith("molmtd"))]
    inputs = [c for c in got.columns if c not in made]
    pd.testing.assert_frame_equal(got[inputs], one_shot[inputs], check_dtype=False)
    pd.testing.assert_frame_equal(
        got[made], one_shot[made], check_exact=False, rtol=1e-5, atol=1e-6
    )


def _cli(student_dir: Path, src: Path, out: Path, *extra: str) -> int:
    from molmtd.cli import main

    args = ["featurize", str(src), "-o", str(out), "--model", str(student_dir)]
    return main([*args, "--precision", "float32", *extra])


@pytest.mark.parametrize("fmt", ["smi", "csv", "parquet"])
@pytest.mark.parametrize("out_fmt", ["parquet", "csv", "npy"])
def test_streamed_rows_equal_in_memory_rows(
    student_dir: Path, tmp_path: Path, fmt: str, out_fmt: str
) -> None:
    src = tmp_path / f"in.{fmt}"
    table = pd.DataFrame({"id": range(len(INPUTS)), "smiles": INPUTS})
    if fmt == "smi":
        src.write_text("\n".join(f"{s} {i}" for i, s in enumerate(INPUTS)) + "\n")
    elif fmt == "csv":
        table.to_csv(src, index=False)
    else:
        table.to_parquet(src, index=False)
    out = tmp_path / f"out.{out_fmt}"
    assert _cli(student_dir, src, out, "--chunk-rows", "4") == 0
    ref, valid = _reference(student_dir)
    if out_fmt == "npy":
        got, got_valid = np.load(out), np.load(out.with_suffix(".valid.npy"))
    else:
        frame = pd.read_parquet(out) if out_fmt == "parquet" else pd.read_csv(out)
        assert len(frame) == len(INPUTS)
        if fmt != "smi":
            assert frame["id"].tolist() == list(range(len(INPUTS)))
        got = frame[[f"molmtd{i}" for i in range(16)]].to_numpy(np.float32)
        got_valid = frame["valid"].to_numpy(bool)
    np.testing.assert_array_equal(got_valid, valid)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert not (tmp_path / f"out.{out_fmt}.parts").exists()
    one_shot = _one_shot(student_dir, src, tmp_path / f"one.{out_fmt}")
    _assert_same_rows(_npy_frame(out) if out_fmt == "npy" else frame, one_shot)


def test_resume_after_a_kill_reuses_written_parts(
    student_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.smi"
    src.write_text("\n".join(INPUTS) + "\n")
    out = tmp_path / "out.parquet"
    calls = []
    real = Featurizer.transform

    def dies_on_third_chunk(self: Featurizer, X: list) -> np.ndarray:
        calls.append(len(X))
        if len(calls) == 3:
            raise KeyboardInterrupt  # what a kill looks like mid-run
        return real(self, X)

    monkeypatch.setattr(Featurizer, "transform", dies_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        _cli(student_dir, src, out, "--chunk-rows", "4")
    parts = sorted(p.name for p in (tmp_path / "out.parquet.parts").iterdir())
    assert parts == ["manifest.json", "part-000000.parquet", "part-000001.parquet"]
    assert not out.exists()
    monkeypatch.setattr(
        Featurizer, "transform", lambda self, X: (calls.append(len(X)), real(self, X))[1]
    )
    calls.clear()
    assert _cli(student_dir, src, out, "--chunk-rows", "4") == 0
    assert calls == [4, 3]  # only the chunks not written before: 15 rows are 4, 4, 4, 3
    frame = pd.read_parquet(out)
    ref, valid = _reference(student_dir)
    np.testing.assert_array_equal(frame["valid"].to_numpy(), valid)
    got = frame[[f"molmtd{i}" for i in range(16)]].to_numpy(np.float32)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, equal_nan=True)
    _assert_same_rows(frame, _one_shot(student_dir, src, tmp_path / "one.parquet"))


def test_resume_refuses_parts_of_another_run(student_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.smi"
    src.write_text("\n".join(INPUTS) + "\n")
    out = tmp_path / "out.parquet"
    parts = tmp_path / "out.parquet.parts"
    parts.mkdir()
    (parts / "manifest.json").write_text(json.dumps({"chunk_rows": 99}))
    with pytest.raises(RuntimeError, match=r"different run.*chunk_rows"):
        _cli(student_dir, src, out, "--chunk-rows", "4")


def test_featurize_dask_matches_featurizer(student_dir: Path, tmp_path: Path) -> None:
    import dask
    import dask.dataframe as dd

    from molmtd import featurize_dask

    table = pd.DataFrame({"smiles": INPUTS, "id": range(len(INPUTS))})
    frame = dd.from_pandas(table, npartitions=3)
    lazy = featurize_dask(frame, model=student_dir, precision="float32")
    with dask.config.set(scheduler="synchronous"):
        got = lazy.compute()
    ref, valid = _reference(student_dir)
    assert got["id"].tolist() == list(range(len(INPUTS)))
    np.testing.assert_array_equal(got["valid"].to_numpy(), valid)
    rows = got[[f"molmtd{i}" for i in range(16)]].to_numpy(np.float32)
    np.testing.assert_allclose(rows, ref, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert lazy.dtypes.equals(got.dtypes)  # the declared meta is what the partitions return
    src = tmp_path / "in.parquet"
    table.to_parquet(src, index=False)
    one_shot = _one_shot(student_dir, src, tmp_path / "one.parquet")
    _assert_same_rows(got.reset_index(drop=True), one_shot)


@pytest.mark.slow
def test_featurize_on_a_local_cluster_with_two_workers(student_dir: Path, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": INPUTS * 5}).to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        assert _cli(student_dir, src, out, "--scheduler", cluster.scheduler_address) == 0
    frame = pd.read_parquet(out)
    ref, valid = _reference(student_dir)
    np.testing.assert_array_equal(frame["valid"].to_numpy(), np.tile(valid, 5))
    rows = frame[[f"molmtd{i}" for i in range(16)]].to_numpy(np.float32)
    np.testing.assert_allclose(rows, np.tile(ref, (5, 1)), rtol=1e-5, atol=1e-6, equal_nan=True)
    one_shot = _one_shot(student_dir, src, tmp_path / "one.parquet")
    _assert_same_rows(frame.reset_index(drop=True), one_shot)


def test_public_featurize_file_takes_string_paths(student_dir: Path, tmp_path: Path) -> None:
    import molmtd

    src = tmp_path / "in.smi"
    src.write_text("\n".join(INPUTS) + "\n")
    out = tmp_path / "out.parquet"
    featurizer = Featurizer(model=student_dir, on_error="nan", precision="float32")
    rows, invalid = molmtd.featurize_file(str(src), str(out), featurizer, chunk_rows=7)
    expected, valid = _reference(student_dir)
    frame = pd.read_parquet(out)
    assert (rows, invalid) == (len(INPUTS), int((~valid).sum()))
    cols = [c for c in frame.columns if c.startswith("molmtd")]
    np.testing.assert_allclose(frame[cols].to_numpy(), expected, rtol=1e-6, atol=1e-6)


def test_resume_refuses_parts_with_other_column_names(student_dir: Path, tmp_path: Path) -> None:
    """Parts written before the row columns were renamed are never joined with new ones."""
    src = tmp_path / "in.smi"
    src.write_text("\n".join(INPUTS) + "\n")
    out = tmp_path / "out.parquet"
    assert _cli(student_dir, src, tmp_path / "first.parquet", "--chunk-rows", "4") == 0
    parts = tmp_path / "out.parquet.parts"
    parts.mkdir()
    frame = pd.read_parquet(tmp_path / "first.parquet").iloc[:4]
    frame.rename(columns={"molmtd15": "molmtd_old15"}).to_parquet(parts / "part-000000.parquet")
    with pytest.raises(RuntimeError, match=r"named otherwise.*molmtd_old15, now molmtd15"):
        _cli(student_dir, src, out, "--chunk-rows", "4")
