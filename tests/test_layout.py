"""The package layout a newcomer relies on: public import paths, import order, module size."""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import pytest

import molmtd

PACKAGE = Path(molmtd.__file__).resolve().parent
MAX_LINES = 700
# Modules still over MAX_LINES, with the issue that splits them (remove once split).


def test_store_public_names() -> None:
    from molmtd.store import (  # noqa: F401
        DEFAULT_CHUNK_SIZE,
        FORMAT_VERSION,
        ConfigMismatchError,
        StoreError,
        TeacherStore,
        build_store,
        build_teacher,
        embed_chunk,
        format_report,
        package_versions,
    )

    assert issubclass(ConfigMismatchError, StoreError)
    assert TeacherStore.__module__ == "molmtd.store.teacher_store"


# Each store module may import only the store modules listed before it (see its docstring).
STORE_ORDER = ("format", "stats", "teacher_store", "worker", "executors", "build")


@pytest.mark.parametrize("module", STORE_ORDER)
def test_store_import_order(module: str) -> None:
    tree = ast.parse((PACKAGE / "store" / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("molmtd.store"):
            imported.add(node.module.removeprefix("molmtd.store").lstrip("."))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("molmtd.store"):
                    imported.add(alias.name.removeprefix("molmtd.store").lstrip("."))
    allowed = set(STORE_ORDER[: STORE_ORDER.index(module)])
    if module == "stats":
        allowed.add("teacher_store")  # for a type annotation only (under TYPE_CHECKING)
    assert imported <= allowed, f"molmtd.store.{module} imports {sorted(imported - allowed)}"


def test_conformer_step_names_from_conformers() -> None:
    from molmtd.teachers import conformer_step, conformers

    assert conformers.CONFORMER_CACHE is conformer_step.CONFORMER_CACHE
    assert conformers.get_conformer is conformer_step.get_conformer
    assert conformers.RDKit3DTeacher.__module__ == "molmtd.teachers.conformers"  # pickles


def test_no_module_over_the_limit() -> None:
    too_long = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        n = len(path.read_text().splitlines())
        if n > MAX_LINES:
            too_long[rel] = n
    assert not too_long, (
        f"modules over {MAX_LINES} lines (split one responsibility out): {too_long}"
    )


def test_cli_help_lists_every_subcommand() -> None:
    from molmtd.cli import build_parser

    parser = build_parser()
    help_text = parser.format_help()
    for command in ("featurize", "teachers", "distill", "benchmark", "models"):
        assert command in help_text
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            parser.parse_args([command, "--help"])
        assert exit_info.value.code == 0 and f"molmtd {command}" in out.getvalue()
