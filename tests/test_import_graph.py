"""The package's modules import one another without a circle (at module level, where a circle
decides whether an import works at all, depending on which module comes first)."""

from __future__ import annotations

import ast
from pathlib import Path

import twinning


def module_imports() -> dict[str, set[str]]:
    """Module name -> the twinning modules it imports at its top level."""
    # The installed tree (links to the source under the package-dir mapping) names each module.
    installed = Path(twinning.__file__).parent
    modules: dict[str, set[str]] = {}
    for path in installed.rglob("*.py"):
        parts = ["twinning", *path.relative_to(installed).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        imported: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("twinning"):
                imported |= {node.module or "", *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("twinning")}
        modules[".".join(parts)] = imported
    return {
        name: {m for m in found if m in modules and m != name} for name, found in modules.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = module_imports()
    assert "twinning.streams.events" in graph and "twinning.db" in graph
    assert circles(graph) == []


def test_a_circle_is_found_when_there_is_one() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
