"""The package's layers, read from its source: every ``import`` of every module under
``lib/cpstats`` (function-local ones included, since they run as surely as the others,
only later), as a graph of modules.

- The spine (facts, measures, rates, codes, periods, disclosure, results, registry) and every
  module under ``stats/`` and ``themes/`` take data as facts frames and never reach into the
  readers of ``io/``.
- No import circle anywhere in the package.

A failure prints the offending chain, each step with the file and line of its import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from cpstats.paths import PROJECT_ROOT

PACKAGE = "cpstats"
ROOT = PROJECT_ROOT / "lib" / PACKAGE
READERS = "cpstats.io"
SPINE = {f"cpstats.{name}" for name in (
    "facts", "measures", "rates", "codes", "periods", "disclosure", "results", "registry")}
LAYERS_WITHOUT_READERS = ("cpstats.stats", "cpstats.themes")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    local: bool  # inside a function or class body

    def __str__(self) -> str:
        where = _path(self.source).relative_to(PROJECT_ROOT)
        kind = "function-local import" if self.local else "import"
        return f"{self.source} -> {self.target}   ({where}:{self.line}, {kind})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _path(module: str) -> Path:
    base = ROOT.parent.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The package module an imported name lives in (the longest existing prefix)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


class _Imports(ast.NodeVisitor):
    """Every import of a package module, noting whether it sits in a function or class body.
    Imports under ``if TYPE_CHECKING:`` never run and are left out."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package = module, is_package
        self.depth = 0
        self.edges: list[Edge] = []

    def _add(self, name: str, line: int) -> None:
        target = _resolve(name)
        if target is not None and target != self.module:
            self.edges.append(Edge(self.module, target, line, self.depth > 0))

    def _scoped(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scoped

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative: from the module's own package, up level - 1
            package = self.module.split(".")
            if not self.is_package:
                package.pop()
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        for alias in node.names:
            # ``from cpstats.io import dfe`` imports the module cpstats.io.dfe
            full = f"{base}.{alias.name}"
            self._add(full if full in MODULES else base, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("cpstats.x") with a literal name is an import too
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (name == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            self._add(node.args[0].value, node.lineno)
        self.generic_visit(node)


def _edges() -> list[Edge]:
    edges = []
    for module, path in MODULES.items():
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        edges += visitor.edges
    return edges


EDGES = _edges()


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _must_not_read(module: str) -> bool:
    return module in SPINE or any(_in(module, layer) for layer in LAYERS_WITHOUT_READERS)


def _cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One shortest circle through each strongly connected group of modules."""
    graph: dict[str, list[Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, []).append(edge)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan (the package is small: recursion is fine)
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph.get(node, []):
            if edge.target not in index:
                connect(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_shortest_circle(sorted(group)[0], group, graph) for group in groups]


def _shortest_circle(start: str, group: set[str], graph: dict[str, list[Edge]]) -> list[Edge]:
    """Breadth-first from ``start`` back to itself, inside ``group``."""
    paths: dict[str, list[Edge]] = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for edge in sorted(graph.get(node, []), key=lambda e: (e.target, e.line)):
            if edge.target not in group:
                continue
            if edge.target == start:
                return [*paths[node], edge]
            if edge.target not in paths:
                paths[edge.target] = [*paths[node], edge]
                queue.append(edge.target)
    raise AssertionError(f"no circle through {start}")


def test_the_walk_sees_the_package():
    assert {"cpstats.facts", "cpstats.io.dfe", "cpstats.stats.forecast"} <= set(MODULES)
    assert any(e.source == "cpstats.io.dfe" and e.target == "cpstats.facts" for e in EDGES)
    assert any(e.local for e in EDGES)  # function-local imports are seen


def test_spine_stats_and_themes_do_not_import_the_readers():
    offending = [e for e in EDGES if _must_not_read(e.source) and _in(e.target, READERS)]
    assert not offending, (
        "the spine, stats/ and themes/ take facts frames from their caller; these reach into "
        "io/:\n  " + "\n  ".join(map(str, offending)))


def test_no_import_circle():
    circles = _cycles(EDGES)
    assert not circles, "import circles:\n" + "\n".join(
        "  " + "\n    ".join(map(str, circle)) for circle in circles)



def test_a_circle_is_found_and_shown_as_a_chain():
    """The cycle finder itself, on a made-up graph: a -> b -> c -> a, with d hanging off."""
    edges = [Edge("cpstats.facts", "cpstats.codes", 3, False),
             Edge("cpstats.codes", "cpstats.periods", 4, True),
             Edge("cpstats.periods", "cpstats.facts", 5, False),
             Edge("cpstats.periods", "cpstats.errors", 6, False)]
    [circle] = _cycles(edges)
    assert [e.source for e in circle] == ["cpstats.codes", "cpstats.periods", "cpstats.facts"]
    assert "lib/cpstats/periods.py:5, import" in str(circle[1])
    assert "function-local import" in str(circle[0])
