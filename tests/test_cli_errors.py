"""CLI user errors: one line ``molmtd: error: ...``, exit 2, checked before embedding."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from trust_helpers import save_student

import molmtd.featurizer as featurizer_module
from molmtd.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(save_student(tmp_path_factory.mktemp("cli") / "m"))


@pytest.fixture
def no_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any molecule is embedded."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a molecule was embedded before the error was found")

    monkeypatch.setattr(featurizer_module.Featurizer, "transform", boom)


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("embed:")]  # tqdm
    assert len(lines) == 1, err
    assert lines[0].startswith("molmtd: error: ")
    return lines[0]


def _csv(tmp_path: Path, **columns: list) -> Path:
    src = tmp_path / "in.csv"
    pd.DataFrame(columns or {"smiles": ["CCO", "CCN"]}).to_csv(src, index=False)
    return src


def test_missing_input(model: str, tmp_path: Path, capsys, no_embedding) -> None:
    missing = tmp_path / "nope.csv"
    line = _error(
        ["featurize", str(missing), "-o", str(tmp_path / "o.csv"), "--model", model], capsys
    )
    assert str(missing) in line and "does not exist" in line


@pytest.mark.parametrize("name", ["empty.csv", "empty.smi", "empty.parquet"])
def test_empty_input(model: str, tmp_path: Path, capsys, no_embedding, name: str) -> None:
    src = tmp_path / name
    src.write_text("")
    line = _error(["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model], capsys)
    assert str(src) in line and "empty" in line


def test_header_only_csv(model: str, tmp_path: Path, capsys, no_embedding) -> None:
    src = tmp_path / "h.csv"
    src.write_text("smiles,y\n")
    line = _error(["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model], capsys)
    assert "no molecules" in line


def test_no_smiles_column(model: str, tmp_path: Path, capsys, no_embedding) -> None:
    src = _csv(tmp_path, structure=["CCO"], y=[1])
    line = _error(["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model], capsys)
    assert "no SMILES column" in line and "'structure'" in line and "--smiles-col" in line
    line = _error(
        ["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--smiles-col", "smi"], capsys
    )
    assert "column 'smi' not in" in line


@pytest.mark.parametrize("out", ["out.xlsx", "out", "missing_folder/out.csv"])
def test_bad_output_found_before_embedding(
    model: str, tmp_path: Path, capsys, no_embedding, out: str
) -> None:
    src = _csv(tmp_path)
    line = _error(["featurize", str(src), "-o", str(tmp_path / out), "--model", model], capsys)
    assert str(tmp_path / out) in line
    assert not (tmp_path / out).exists()


def test_garbled_parquet(model: str, tmp_path: Path, capsys, no_embedding) -> None:
    src = tmp_path / "bad.parquet"
    src.write_bytes(b"PAR1 this is not parquet")
    line = _error(["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model], capsys)
    assert f"cannot read {src}" in line


def test_unknown_model(tmp_path: Path, capsys) -> None:
    src = _csv(tmp_path)
    line = _error(["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", "nope"], capsys)
    assert "unknown model 'nope'" in line


def test_invalid_molecule_with_on_error_raise(model: str, tmp_path: Path, capsys) -> None:
    src = _csv(tmp_path, smiles=["CCO", "C1CC"])
    argv = ["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model]
    line = _error([*argv, "--on-error", "raise"], capsys)
    assert "input 1 ('C1CC')" in line


def test_tampered_model(tmp_path: Path, capsys) -> None:
    folder = save_student(tmp_path / "m")
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 1
    weights.write_bytes(bytes(data))
    src = _csv(tmp_path)
    line = _error(
        ["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(folder)], capsys
    )
    assert str(weights) in line and "sha256" in line


def test_debug_shows_the_traceback(model: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    from molmtd.errors import UserError

    for argv in (["--debug", "featurize"], ["featurize", "--debug"]):
        with pytest.raises(UserError, match="does not exist"):
            main([*argv, str(missing), "-o", str(tmp_path / "o.csv"), "--model", model])


def test_subprocess_exit_status_and_stderr(model: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "molmtd.cli", "featurize", str(tmp_path / "x.csv"), "-o", "o.xlsx"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "molmtd: error: unsupported output format '.xlsx' for o.xlsx: use .parquet, .csv, .npy"
    ]


def test_success_still_works(model: str, tmp_path: Path) -> None:
    src = _csv(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model]) == 0
    assert pd.read_csv(tmp_path / "o.csv")["valid"].tolist() == [True, True]


def test_benchmark_unknown_representation(tmp_path: Path, capsys) -> None:
    argv = ["benchmark", "--quick", "--reps", "no-such-rep", "--out", str(tmp_path)]
    line = _error(argv, capsys)
    assert "unknown representation 'no-such-rep'" in line
