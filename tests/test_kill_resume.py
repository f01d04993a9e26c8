"""Kill -9 at chosen points of a real ``molmtd featurize`` process, then rerun: the output is
exactly the clean run's (same bytes for CSV, same table for parquet), and a killed run never
leaves a file that reads as complete.

Each killed run is a fresh Python process that runs the real command line and sends itself
SIGKILL from inside the code path named (a part written, the Nth part of the join, half-way
through a one-shot write), so the points are exact rather than timed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from trust_helpers import save_student

from molmtd.data.paths import package_file

ROOT = Path(__file__).resolve().parents[1]

# The hook runs before the CLI in the child: it wraps one function so that its Nth call
# kills the process with SIGKILL (no cleanup, no finally blocks).
CHILD = """
import os, signal, sys, importlib
module_name, attr, when = sys.argv[1], sys.argv[2], int(sys.argv[3])
module = importlib.import_module(module_name)
original = getattr(module, attr)
calls = [0]
def dying(*args, **kwargs):
    calls[0] += 1
    if calls[0] == when:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
setattr(module, attr, dying)
from molmtd.cli import main
sys.exit(main(sys.argv[4:]))
"""


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_student(tmp_path_factory.mktemp("student") / "m")


@pytest.fixture(scope="module")
def nci(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().splitlines()[:1200]
    path = tmp_path_factory.mktemp("input") / "nci.smi"
    path.write_text("\n".join(lines) + "\n")
    return path


def _args(student_dir: Path, src: Path, out: Path, *extra: str) -> list[str]:
    return ["featurize", str(src), "-o", str(out), "--model", str(student_dir),
            "--precision", "float32", "--n-jobs", "1", *extra]  # fmt: skip


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "molmtd", *args], capture_output=True, text=True, cwd=ROOT
    )


def _killed_at(module: str, attr: str, when: int, args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, module, attr, str(when), *args],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]


@pytest.fixture(scope="module")
def clean_csv(student_dir: Path, nci: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("clean") / "clean.csv"
    proc = _run(_args(student_dir, nci, out, "--chunk-rows", "300"))
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


# (module, function, which call kills): inside the parts, then inside the join
KILL_POINTS = [
    ("molmtd.tables.streaming", "embedding_frame", 2),  # after one part, before the second is written
    ("molmtd.tables.streaming", "_fit_schema", 1),  # the join has opened its temporary file
    ("molmtd.tables.streaming", "_fit_schema", 3),  # two parts already joined
]


@pytest.mark.parametrize(("module", "attr", "when"), KILL_POINTS)
def test_streamed_csv_killed_then_rerun_is_the_clean_file(
    student_dir, nci, clean_csv, tmp_path, module, attr, when
):
    out = tmp_path / "k.csv"
    args = _args(student_dir, nci, out, "--chunk-rows", "300")
    _killed_at(module, attr, when, args)
    assert not out.exists()  # nothing that reads as complete
    proc = _run(args)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 1200 rows" in proc.stdout
    assert out.read_bytes() == clean_csv
    assert not list(tmp_path.glob(".k.csv.tmp-*")) and not (tmp_path / "k.csv.parts").exists()


def test_a_stale_temporary_file_of_a_killed_join_is_not_reused(student_dir, nci, clean_csv, tmp_path):
    out = tmp_path / "k.csv"
    args = _args(student_dir, nci, out, "--chunk-rows", "300")
    _killed_at("molmtd.tables.streaming", "_fit_schema", 3, args)
    (tmp_path / "k.csv.tmp").write_text("smiles,valid\nleft,over\n")  # an older layout's file
    assert _run(args).returncode == 0
    assert out.read_bytes() == clean_csv


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_one_shot_output_killed_mid_write_leaves_no_file(student_dir, nci, tmp_path, suffix):
    out = tmp_path / f"nc{suffix}"
    args = _args(student_dir, nci, out)
    # killed with every row written but before the file is complete (its first fsync)
    _killed_at("os", "fsync", 1, args)
    assert not out.exists(), "a killed one-shot run left a file behind"
    proc = _run(args)
    assert proc.returncode == 0, proc.stderr
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 1200


def test_streamed_parquet_whose_column_types_change_between_chunks(student_dir, tmp_path):
    smiles = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().split()[::2][:900]
    ids = pd.array(range(900), dtype="Int64")
    ids[700] = pd.NA  # an integer column with one missing value, in the third chunk only
    frame = pd.DataFrame({"smiles": smiles, "id": ids})
    frame.loc[300:599, "smiles"] = ""  # a chunk whose SMILES are all empty
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    streamed, one_shot = tmp_path / "s.parquet", tmp_path / "o.parquet"
    proc = _run(_args(student_dir, src, streamed, "--chunk-rows", "300"))
    assert proc.returncode == 0, proc.stderr
    assert _run(_args(student_dir, src, one_shot)).returncode == 0
    got, want = pq.read_table(streamed).to_pandas(), pq.read_table(one_shot).to_pandas()
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-5)
    assert got["valid"].sum() == 600 and np.isnan(got.loc[700, "id"])
    assert not (tmp_path / "s.parquet.parts").exists()


def test_streamed_raise_names_the_row_of_the_file(student_dir, tmp_path):
    smiles = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().split()[::2][:800]
    smiles[700] = "not_a_molecule"
    src = tmp_path / "in.smi"
    src.write_text("\n".join(smiles) + "\n")
    out = tmp_path / "r.csv"
    proc = _run(_args(student_dir, src, out, "--chunk-rows", "500", "--on-error", "raise"))
    assert proc.returncode == 2
    assert "input 700 ('not_a_molecule')" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
