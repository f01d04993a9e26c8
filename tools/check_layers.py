"""Check that molmtd's imports go one way: no cycles, no import from a lower layer to a higher one.

Every ``import`` and ``from ... import`` statement counts, including those inside function
bodies and under ``if TYPE_CHECKING:``: a deferred import still ties two modules together.
The layers are listed in ``LAYERS`` (top first); docs/architecture.md draws them.

Usage::

    python tools/check_layers.py            # check molmtd/, exit 1 on a violation
    python tools/check_layers.py --graph    # print every module's molmtd imports
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

# Top first. A module may import modules of its own layer or any layer below it, never above.
# Entries are module names or package prefixes (a package covers everything under it).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("molmtd.cli", "molmtd.__main__", "molmtd.demo.__main__"),  # the command line: parses arguments, prints
    ("molmtd", "molmtd.demo", "molmtd.integrations"),  # the public API, demo, other libraries
    ("molmtd.evaluate",),  # benchmarks of frozen representations
    ("molmtd.tables",),  # molecule tables in, embedding tables out
    ("molmtd.featurizer", "molmtd.random_student", "molmtd.student_module"),
    ("molmtd.training", "molmtd.models"),  # distillation; the shipped students
    ("molmtd.student",),  # load, verify and run a student
    ("molmtd.backbones", "molmtd.store"),  # student networks; teacher stores
    ("molmtd.teachers",),
    ("molmtd.data", "molmtd.synthetic"),
    (  # the foundation: no molmtd imports but each other's
        "molmtd.cpu",
        "molmtd.domain",
        "molmtd.errors",
        "molmtd.loss",
        "molmtd.precision",
        "molmtd.provenance",
        "molmtd.standardize",
        "molmtd.utils",
    ),
)


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of ``path`` under the directory that holds the package ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop] if drop else base
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, root: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports anywhere in its body."""
    current = module_name(path, root)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, current, is_package)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            # `from pkg import mod` names a module; `from mod import name` names the module.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != current:
                found.add(target)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Map every module of the package at ``root`` to the package modules it imports."""
    files = sorted(root.rglob("*.py"))
    known = {module_name(path, root) for path in files}
    graph = {module_name(path, root): imports_of(path, root, known) for path in files}
    # A package's __init__ is imported on the way to any of its modules; that is not an edge.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_of(module: str, layers: Sequence[Sequence[str]]) -> int | None:
    """Index of the layer (0 = top) whose entry covers ``module``, the longest entry winning.

    An entry covers itself and, when it holds a dot, the modules under it: the bare package
    name stands for its ``__init__`` only.
    """
    best: tuple[int, int] | None = None
    for number, entries in enumerate(layers):
        for entry in entries:
            if module == entry or ("." in entry and module.startswith(entry + ".")):
                if best is None or len(entry) > best[1]:
                    best = (number, len(entry))
    return None if best is None else best[0]


def violations(
    graph: dict[str, set[str]], layers: Sequence[Sequence[str]]
) -> Iterable[str]:
    """One line per problem: an unlayered module, an upward import, a cycle."""
    for module in sorted(graph):
        if layer_of(module, layers) is None:
            yield f"{module}: in no layer (add it to LAYERS in tools/check_layers.py)"
    for module in sorted(graph):
        here = layer_of(module, layers)
        for target in sorted(graph[module]):
            there = layer_of(target, layers)
            if here is not None and there is not None and there < here:
                yield f"{module} imports {target}, which is in a higher layer"
    for component in cycles(graph):
        yield "import cycle: " + " <-> ".join(component)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=Path(__file__).parents[1] / "molmtd")
    parser.add_argument("--graph", action="store_true", help="print the import graph and exit")
    args = parser.parse_args(argv)
    graph = import_graph(args.package.resolve())
    if args.graph:
        for module in sorted(graph):
            print(f"{module} [{layer_of(module, LAYERS)}]: {', '.join(sorted(graph[module]))}")
        return 0
    problems = list(violations(graph, LAYERS))
    for line in problems:
        print(line)
    n_edges = sum(len(targets) for targets in graph.values())
    print(f"{len(graph)} modules, {n_edges} imports, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
