"""molmtd.utils' atomic writers: whole new content or the old file, never a partial one."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from molmtd.utils import atomic_open, atomic_save_npy, atomic_write_bytes, write_json


def test_write_json_replaces_and_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.json"
    write_json(path, {"b": 1, "a": Path("x")})
    assert path.read_text() == '{\n  "a": "x",\n  "b": 1\n}\n'  # sorted, str() default
    write_json(path, {"n": np.float32(0.5)}, default=lambda o: o.item(), indent=1)
    assert json.loads(path.read_text()) == {"n": 0.5}
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json"]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"old")
    with pytest.raises(RuntimeError), atomic_open(path) as fh:
        fh.write(b"partial")
        raise RuntimeError
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]  # no temporary file left


def test_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_save_npy(tmp_path / "x.npy", np.arange(3))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.npy").stat().st_mode) == 0o644
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), np.arange(3))
