"""No import cycles between the modules of ``scones``.

The graph is read from the source with ``ast``, never by importing it. An edge ``a -> b`` is an
``import`` of ``b`` that runs when ``a`` is imported: statements at module level, in class bodies
and under ``if``/``try``/``with`` count; imports inside functions (deferred until called) and under
``if TYPE_CHECKING:`` (never run) do not. Relative imports are resolved against the importing
module's package, and ``from pkg import name`` points at ``pkg.name`` when that is a module.
Parent packages are not edges: ``pkg/__init__.py`` importing its own submodules would otherwise
close a loop with each of them.

A second test also counts the imports inside functions: a deferred import that closes a loop does
not fail at import time, but it still ties the modules into one, and it is how a cycle usually hides.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

SRC: Final = Path(__file__).resolve().parents[1] / "src"

#: Cycles through deferred imports that are known and owned by work in progress, with who fixes them.
#: When one disappears, delete its entry.
KNOWN_DEFERRED_CYCLES: Final[Mapping[frozenset[str], str]] = {}


@dataclass(frozen=True)
class Edge:
    target: str
    path: Path
    line: int
    deferred: bool


def module_files(root: Path, package: str = "scones") -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``), for every module under ``root/package``."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(statements: list[ast.stmt], *, deferred: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement with whether it runs only when a function is called."""
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, deferred
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.orelse, deferred=deferred)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _imports(node.body, deferred=True)
        else:
            for field in ("body", "orelse", "finalbody"):
                yield from _imports(getattr(node, field, []), deferred=deferred)
            for handler in getattr(node, "handlers", []):
                yield from _imports(handler.body, deferred=deferred)
            for case in getattr(node, "cases", []):
                yield from _imports(case.body, deferred=deferred)


def module_edges(name: str, path: Path, is_package: bool, modules: Mapping[str, object]) -> list[Edge]:
    package = name if is_package else name.rpartition(".")[0]
    edges = []
    for node, deferred in _imports(ast.parse(path.read_text(), str(path)).body, deferred=False):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                targets.append(submodule if submodule in modules else source)
        edges += [Edge(t, path, node.lineno, deferred) for t in targets if t in modules and t != name]
    return edges


def import_graph(root: Path = SRC, *, deferred: bool = False) -> dict[str, list[Edge]]:
    """Module -> the scones modules it imports (with the deferred ones too when ``deferred``)."""
    modules = module_files(root)
    return {name: [e for e in module_edges(name, path, is_package, modules) if deferred or not e.deferred]
            for name, (path, is_package) in modules.items()}


def cycles(graph: Mapping[str, list[Edge]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for edge in graph[v]:
            w = edge.target
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def describe(component: list[str], graph: Mapping[str, list[Edge]]) -> str:
    """The shortest loop from the component's first module back to it, with the file and line of each
    import: ``a (src/a.py:3) -> b (src/b.py:7, deferred) -> a``."""
    start, members = component[0], set(component)
    came_from: dict[str, tuple[str, Edge]] = {}
    queue, closing = [start], None
    while closing is None:  # a strongly connected component always leads back to its start
        module = queue.pop(0)
        for edge in graph[module]:
            if edge.target == start:
                closing = (module, edge)
                break
            if edge.target in members and edge.target not in came_from:
                came_from[edge.target] = (module, edge)
                queue.append(edge.target)
    hops = [closing]
    while hops[-1][0] != start:
        hops.append(came_from[hops[-1][0]])
    steps = [f"{module} ({_where(edge)})" for module, edge in reversed(hops)]
    return " -> ".join([*steps, start])


def _where(edge: Edge) -> str:
    path = edge.path.relative_to(SRC.parent) if edge.path.is_relative_to(SRC.parent) else edge.path
    return f"{path}:{edge.line}{', deferred' if edge.deferred else ''}"


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(c, graph) for c in found)


def test_no_cycles_through_deferred_imports() -> None:
    graph = import_graph(deferred=True)
    found = cycles(graph)
    unknown = [c for c in found if frozenset(c) not in KNOWN_DEFERRED_CYCLES]
    assert not unknown, "import cycles through imports inside functions:\n" + "\n".join(
        describe(c, graph) for c in unknown)
    if found:
        pytest.xfail("known cycles: " + "; ".join(
            f"{describe(c, graph)} [{KNOWN_DEFERRED_CYCLES[frozenset(c)]}]" for c in found))


def test_the_graph_reader_on_a_small_package(tmp_path: Path) -> None:
    """What counts as an edge: module-level, class-level, relative, ``from pkg import submodule``."""
    pkg = tmp_path / "scones"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n    from scones import c\n"
                "def f():\n    import scones.c\n",
        "b.py": "class B:\n    from .sub import d\n",
        "c.py": "try:\n    from scones.sub.d import x\nexcept ImportError:\n    pass\n",
        "sub/__init__.py": "from .d import x\n",
        "sub/d.py": "from ..c import y\nimport json\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(tmp_path)
    targets = {name: sorted(e.target for e in edges) for name, edges in graph.items()}
    assert targets == {"scones": [], "scones.a": ["scones.b"], "scones.b": ["scones.sub.d"],
                       "scones.c": ["scones.sub.d"], "scones.sub": ["scones.sub.d"], "scones.sub.d": ["scones.c"]}
    assert cycles(graph) == [["scones.c", "scones.sub.d"]]
    loop = describe(["scones.c", "scones.sub.d"], graph)
    assert loop == f"scones.c ({pkg / 'c.py'}:2) -> scones.sub.d ({pkg / 'sub' / 'd.py'}:1) -> scones.c"
    deferred = import_graph(tmp_path, deferred=True)
    assert [e.target for e in deferred["scones.a"] if e.deferred] == ["scones.c"]
