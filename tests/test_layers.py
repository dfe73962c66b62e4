"""The import structure: no cycles, no upward imports (type-only imports aside).

Read from the source (``ast``), not by importing: an import inside ``if TYPE_CHECKING:`` is for
type hints only and does not count.  Each module belongs to the layer of its longest matching
prefix in :data:`LAYERS` and imports only from its own layer or lower ones; the agent (``edge``),
the collector and the dashboard assets stay apart, meeting only in the shared ``hubsense`` package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hubsense", "edge", "collector", "dashboard")
LAYERS = {  # module prefix -> layer
    "hubsense": 0, "dashboard": 0, "collector": 0,  # the collector package's __init__ (a docstring)
    "edge": 1,
    "collector.model": 1, "collector.settings": 1,
    "collector.engine": 2, "collector.store": 2, "collector.auth": 2, "collector.bookings": 2,
    "collector.stats": 3, "collector.live": 3, "collector.billing": 3,
    "collector.handler": 4, "collector.acks": 4, "collector.learned": 4, "collector.replay": 4,
    "collector.simulate": 4, "collector.export": 4, "collector.fleet": 4, "collector.tune": 5,
    "collector.mqtt_child": 1, "collector.mqtt_link": 4, "collector.ingest": 5,
    "collector.homeassistant": 6, "collector.metrics": 6, "collector.notify": 6, "collector.network": 6,
    "collector.notify.cli": 9,
    "collector.api": 7, "collector.httpserver": 7,
    "collector.service": 8,
    "collector.cli": 9, "collector.demo": 9, "collector.deploy": 9, "collector.billing.cli": 9,
}
# which top-level packages each one may import
ROOTS = {"hubsense": {"hubsense"}, "dashboard": set(), "edge": {"hubsense", "edge"},
         "collector": {"hubsense", "collector", "dashboard"}}  # the API serves the dashboard's assets
EXCEPTIONS = {("collector.demo", "edge.simulate")}  # the demo runs simulated agents next to the collector


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        out |= _imports(node)
    return out


def import_graph() -> dict[str, set[str]]:
    files = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {m: {i for i in _imports(ast.parse(p.read_text(encoding="utf-8"))) if i in files and i != m}
            for m, p in files.items()}


def layer(module: str) -> int:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[prefix]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


GRAPH = import_graph()


def test_every_module_has_a_layer() -> None:
    assert len(GRAPH) > 50
    for module in GRAPH:
        layer(module)  # raises if no prefix matches


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_upward_or_sideways_imports(module: str) -> None:
    root = module.split(".")[0]
    bad = [f"{module} -> {target}" for target in sorted(GRAPH[module])
           if (module, target) not in EXCEPTIONS
           and (target.split(".")[0] not in ROOTS[root] or layer(target) > layer(module))]
    assert bad == []


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert layer("collector.store.sqlite") < layer("collector.stats.load") < layer("collector.api.stats")
