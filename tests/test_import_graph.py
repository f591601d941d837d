"""The modules of mivb/ import one another without a circle: each can be read, and changed, knowing
only the modules below it. Every import counts: at the top of a module, inside a function (run
later), and under ``TYPE_CHECKING`` (read by type checkers)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mivb"


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The modules of mivb/ that the file at ``path`` imports, wherever the import stands.
    ``from . import name`` imports the module ``name`` when there is one, else the package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("mivb.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("mivb."):
                found.add(node.module.split(".")[1])
            elif node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found |= {alias.name if alias.name in modules else "__init__" for alias in node.names}
    return found - {path.stem}


def import_graph() -> dict[str, set[str]]:
    modules = {path.stem for path in PACKAGE.glob("*.py")}
    return {path.stem: imported_modules(path, modules) & modules for path in PACKAGE.glob("*.py")}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports (its modules in order, the first repeated at the end), or None."""
    finished: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in finished:
            return None
        for imported in sorted(graph[module]):
            circle = visit(imported, [*path, module])
            if circle:
                return circle
        finished.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module, [])
        if circle:
            return circle
    return None


def test_the_graph_is_read_from_every_kind_of_import():
    graph = import_graph()
    assert "result" in graph["estimate"]  # at the top of the module
    assert "plotting" in graph["result"]  # inside a method: Estimate.plot
    assert "diagnosis" in graph["_progress"]  # under TYPE_CHECKING
    assert "__init__" in graph["cli"]  # from . import __version__


def test_mivb_imports_no_module_in_a_circle():
    assert find_circle(import_graph()) is None


@pytest.mark.parametrize("graph, circle", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"b2"}, "b2": {"b"}}, ["b", "b2", "b"]),
    ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),
])
def test_find_circle_finds_a_circle_and_only_one(graph, circle):
    assert find_circle(graph) == circle


def test_estimate_and_its_configuration_sit_on_the_ground_floor():
    """``mivb.result`` (Estimate, EstimateConfig), which every step reads, imports none of them:
    only the core's leaves, and plotting, which imports nothing of estimate's."""
    graph = import_graph()
    above = {"estimate", "pipeline", "protocol", "conditional", "streams", "intervals", "diagnosis",
             "independence", "_progress"}

    def reachable(module: str) -> set[str]:
        seen, todo = set(), [module]
        while todo:
            for imported in graph[todo.pop()] - seen:
                seen.add(imported)
                todo.append(imported)
        return seen

    assert not reachable("result") & above
