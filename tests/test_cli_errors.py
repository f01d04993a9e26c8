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


# Every option or input a user can get wrong: one line, exit 2, nothing left behind.
def _paths(tmp_path: Path) -> dict[str, Path]:
    csv = _csv(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    xlsx = tmp_path / "in.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 not really a workbook")
    return {"csv": csv, "empty": empty, "xlsx": xlsx}


ERROR_CASES = {
    "n-jobs 0": (["--n-jobs", "0"], "csv", "n_jobs"),
    "batch-size -1": (["--batch-size", "-1"], "csv", "batch_size"),
    "cuda without a GPU": (["--device", "cuda"], "csv", "no CUDA"),
    "unknown device": (["--device", "tpu9"], "csv", "device"),
    "int8 with onnx": (["--precision", "int8", "--backend", "onnx"], "csv", "onnx"),
    "chunk-rows -5": (["--chunk-rows", "-5"], "csv", "--chunk-rows"),
    "chunk-rows 0": (["--chunk-rows", "0"], "csv", "--chunk-rows"),
    "streamed wrong column": (["--chunk-rows", "10", "--smiles-col", "nope"], "csv", "nope"),
    "streamed empty file": (["--chunk-rows", "10"], "empty", "empty"),
    "streamed xlsx": (["--chunk-rows", "10"], "xlsx", ".xlsx"),
    "one-shot xlsx": ([], "xlsx", "in.xlsx"),
    "one-shot wrong column": (["--smiles-col", "nope"], "csv", "nope"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_every_option_error_is_one_line(model: str, tmp_path: Path, capsys, case: str) -> None:
    extra, source, needle = ERROR_CASES[case]
    src = _paths(tmp_path)[source]
    out = tmp_path / "out.csv"
    line = _error(["featurize", str(src), "-o", str(out), "--model", model, *extra], capsys)
    assert needle in line, line
    assert not out.exists() and not list(tmp_path.glob("*.parts"))
    assert not list(tmp_path.glob(".out.csv.tmp-*"))


@pytest.mark.parametrize("extra", [[], ["--chunk-rows", "10"]])
def test_output_equal_to_input_is_refused(model: str, tmp_path: Path, capsys, extra) -> None:
    src = _csv(tmp_path)
    before = src.read_bytes()
    line = _error(["featurize", str(src), "-o", str(src), "--model", model, *extra], capsys)
    assert "is the input file" in line and src.read_bytes() == before


def test_a_long_input_is_quoted_cut(model: str, tmp_path: Path, capsys) -> None:
    src = _csv(tmp_path, smiles=["CCO", "X" * 5000])
    line = _error(
        ["featurize", str(src), "-o", str(tmp_path / "o.csv"), "--model", model,
         "--on-error", "raise"], capsys,
    )  # fmt: skip
    assert "input 1" in line and "(5000 characters)" in line and len(line) < 600


@pytest.mark.parametrize("extra", [[], ["--chunk-rows", "2"]])
def test_smi_header_line_is_not_a_molecule(model: str, tmp_path: Path, extra) -> None:
    src = tmp_path / "in.smi"
    src.write_text("SMILES Name\nCCO ethanol\nc1ccccc1O phenol\nCCN ethylamine\n")
    out = tmp_path / "o.csv"
    assert main(["featurize", str(src), "-o", str(out), "--model", model, *extra]) == 0
    frame = pd.read_csv(out)
    assert frame["smiles"].tolist() == ["CCO", "c1ccccc1O", "CCN"] and frame["valid"].all()


def test_version_and_help_texts(capsys) -> None:
    from molmtd import __version__

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"molmtd {__version__}"
    with pytest.raises(SystemExit):
        main(["featurize", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--smiles-col", "--model", "--device", "--batch-size", "--on-error"):
        described = text.split(option, 2)[-1][:200]
        assert len(described.split()) > 4, option
    assert "default of the Python Featurizer" in text
