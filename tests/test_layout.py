"""The package layout a newcomer relies on: public import paths, import order, module size."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

import molmtd

PACKAGE = Path(molmtd.__file__).resolve().parent
MAX_LINES = 700
MAX_FUNCTION_LINES = 80
MAX_FEATURIZER_LINES = 300
REPO = PACKAGE.parent


def _load_layer_checker():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_layers", REPO / "tools" / "check_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


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


def test_imports_go_one_way() -> None:
    checker = _load_layer_checker()
    problems = list(checker.violations(checker.import_graph(PACKAGE), checker.LAYERS))
    assert not problems, "\n".join(problems)


def test_layer_check_sees_cycles_upward_and_function_level_imports(tmp_path) -> None:
    checker = _load_layer_checker()
    pkg = tmp_path / "pkg"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from pkg.high import g\n")
    (pkg / "low" / "b.py").write_text("from . import a\n")
    (pkg / "high.py").write_text("from pkg.low import b\nimport pkg.unlisted\n")
    (pkg / "unlisted.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.high\n")
    layers = (("pkg", "pkg.high"), ("pkg.low",))
    problems = list(checker.violations(checker.import_graph(pkg), layers))
    assert "pkg.low.a imports pkg.high, which is in a higher layer" in problems
    assert "pkg.unlisted: in no layer (add it to LAYERS in tools/check_layers.py)" in problems
    assert any(p.startswith("import cycle:") and "pkg.low.a" in p for p in problems)
    assert any(p.startswith("import cycle:") and "pkg.unlisted" in p for p in problems)


def _long_functions(root: Path, limit: int) -> dict[str, int]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    found[f"{path.relative_to(root.parent)}:{node.lineno} {node.name}"] = n
    return found


def test_no_function_over_80_lines() -> None:
    too_long = _long_functions(PACKAGE, MAX_FUNCTION_LINES)
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


def test_featurizer_is_a_thin_shell() -> None:
    n = len((PACKAGE / "featurizer.py").read_text().splitlines())
    assert n < MAX_FEATURIZER_LINES, f"molmtd/featurizer.py has {n} lines"


def test_only_the_cli_parses_arguments() -> None:
    """No library module imports argparse or the command line."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("cli/") or rel.endswith("__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "argparse" or n.startswith("molmtd.cli") for n in names):
                offenders.append(rel)
    assert not offenders, f"library modules importing argparse or molmtd.cli: {offenders}"


def test_architecture_doc_names_every_package_and_module() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    missing = []
    for path in sorted(PACKAGE.iterdir()):
        if path.name.startswith(("_", ".")) or path.name in ("configs", "models"):
            continue
        if path.is_dir() and (path / "__init__.py").is_file():
            names = [f"molmtd/{path.name}/", f"molmtd.{path.name}"]
            if not any(n in text for n in names):
                missing.append(names[0])
            for module in sorted(path.glob("*.py")):
                if not module.name.startswith("_") and module.name not in text:
                    if f"`{module.stem}`" not in text:
                        missing.append(f"{path.name}/{module.name}")
        elif path.suffix == ".py":
            stem = path.stem
            if not any(n in text for n in (f"molmtd/{path.name}", f"molmtd.{stem}", f"`{stem}`")):
                missing.append(path.name)
    assert not missing, f"docs/architecture.md does not mention: {missing}"


def test_benchmarks_readme_lists_every_script() -> None:
    bench = REPO / "benchmarks"
    text = (bench / "README.md").read_text()
    scripts = [p for p in bench.rglob("*") if p.suffix in (".py", ".sh") and "results" not in p.parts]
    missing = [str(p.relative_to(bench)) for p in scripts if p.name not in text]
    assert not missing, f"benchmarks/README.md does not list: {missing}"


def test_public_api() -> None:
    from molmtd.featurizer import Featurizer
    from molmtd.student.shipped import list_models
    from molmtd.student_module import load_student_module
    from molmtd.tables.dask import featurize_dask
    from molmtd.tables.streaming import featurize_file

    assert molmtd.Featurizer is Featurizer and molmtd.featurize_file is featurize_file
    assert molmtd.featurize_dask is featurize_dask and molmtd.list_models is list_models
    assert molmtd.load_student_module is load_student_module
    assert set(molmtd.__all__) >= {"Featurizer", "featurize_file", "featurize_dask"}


def test_model_cards_name_scripts_that_exist() -> None:
    missing = []
    for card in sorted((PACKAGE / "models").glob("*/card.json")):
        for script in re.findall(r"benchmarks/[\w/.-]+\.(?:sh|py)\b", card.read_text()):
            if not (REPO / script).is_file():
                missing.append(f"{card.parent.name}: {script}")
    assert not missing, missing
