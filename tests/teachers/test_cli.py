"""``molmtd teachers list | build | info`` end to end on a small .smi corpus."""

from __future__ import annotations

import numpy as np
import pytest

from molmtd.cli import main
from molmtd.cli.teachers import parse_limits
from molmtd.data.paths import package_file
from molmtd.store import TeacherStore
from molmtd.teachers.base import get_teacher, list_teachers

pytestmark = pytest.mark.skipif(
    not {"morgan", "maccs"} <= set(list_teachers()), reason="fingerprint teachers not present"
)


@pytest.fixture
def corpus_file(tmp_path):
    lines = package_file("rdkit", "Data/NCI/first_5K.smi").read_text().splitlines()[:150]
    path = tmp_path / "nci.smi"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_list(capsys):
    assert main(["teachers", "list", "--no-dim"]) == 0
    out = capsys.readouterr().out
    assert "morgan" in out and "fingerprint" in out
    assert main(["teachers", "list"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("maccs "))
    assert line.split()[-1] == "167"


def test_parse_limits():
    assert parse_limits("ani=5000, usrcat=10") == {"ani": 5000, "usrcat": 10}
    assert parse_limits("") == {}
    with pytest.raises(ValueError):
        parse_limits("ani")


def test_build_resume_and_info(tmp_path, corpus_file, capsys):
    out = tmp_path / "store"
    args = [
        "teachers", "build", "--corpus", str(corpus_file), "--n", "120",
        "--teachers", "morgan,maccs", "--out", str(out), "--n-jobs", "1",
        "--limit", "maccs=50", "--dtype", "float16", "--chunk-size", "40", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    report = capsys.readouterr().out
    assert "| morgan | fingerprint | 2048 | complete | 1.000 | 120 |" in report
    assert "| maccs | fingerprint | 167 | complete | 0.417 | 50 |" in report
    store = TeacherStore.open(out)
    assert len(store) == 120 and store.dtype == "float16"
    assert store.manifest["corpus"]["n_kept"] == 120
    x, mask = store.read_all("morgan")
    ref, ref_mask = get_teacher("morgan").embed(store.smiles)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_allclose(x, ref, rtol=1e-3)
    # rerunning is a no-op resume
    assert main(args) == 0
    capsys.readouterr()
    assert (
        TeacherStore.open(out).manifest["teachers"]["morgan"]["builds"][-1]["chunks_computed"] == 0
    )
    # a different corpus selection into the same --out is refused
    assert main([*args[:5], "100", *args[6:]]) == 2
    assert "other molecules" in capsys.readouterr().err
    # a changed teacher config is refused without --overwrite
    changed = [*args, "--teacher-kwargs", '{"morgan": {"radius": 3}}']
    assert main(changed) == 2
    assert "Refusing to mix" in capsys.readouterr().err
    assert main(["teachers", "info", str(out)]) == 0
    assert "maccs" in capsys.readouterr().out


def test_build_rejects_unknown_teacher(tmp_path, corpus_file, capsys):
    argv = ["teachers", "build", "--corpus", str(corpus_file), "--teachers", "nope",
            "--out", str(tmp_path / "s")]  # fmt: skip
    assert main(argv) == 2
    assert "unknown teachers" in capsys.readouterr().err
