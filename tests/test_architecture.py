"""The package's import graph: no cycles, and no private names imported across modules.

Every module of ``unafraid`` is parsed with the standard library's ``ast`` (nothing is
imported), and every import statement is an edge of the graph: at module level, inside
functions and inside ``try`` blocks alike (an import inside a function still ties two
modules together; hiding it there only delays the cycle). Imports under
``if TYPE_CHECKING:`` never run and are left out.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "unafraid"

# Private names still imported across modules, each waiting for a public replacement that its
# owner is writing; the test fails when one is gone (delete it here) or a new one appears.
PENDING: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve(importer: str, importer_path: Path, node: ast.ImportFrom) -> str:
    """The absolute name of the module ``from <node.module> import ...`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package(importer_path):
        base = base[:-1]                               # a module's package
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skip.update(id(n) for n in ast.walk(stmt))
    return skip


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """``(target module, imported name or '', line)`` for every import in the module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = type_checking_nodes(tree)
    found: list[tuple[str, str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(name, path, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:                 # `from . import losses`: the module itself
                    found.append((submodule, "", node.lineno))
                else:                                  # a name defined in `source`
                    found.append((source, alias.name, node.lineno))
    return found


def graph() -> dict[str, dict[str, int]]:
    """module -> {imported unafraid module: line of the first such import}."""
    mods = modules()
    known = set(mods)
    edges: dict[str, dict[str, int]] = {m: {} for m in mods}
    for name, path in mods.items():
        for target, _, line in imports(name, path, known):
            if target in known and target != name:
                edges[name].setdefault(target, line)
    return edges


def find_cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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
                components.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [cycle_through(sorted(c), edges) for c in components]


def cycle_through(component: list[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """A cycle inside ``component`` starting at its first module (breadth-first back to it)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                return paths[v] + [start]
            if w in members and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return component


def describe(cycle: list[str], edges: dict[str, dict[str, int]]) -> str:
    return " -> ".join(f"{a} (line {edges[a][b]})" for a, b in itertools.pairwise(cycle)) + \
        f" -> {cycle[-1]}"


def private_imports() -> dict[tuple[str, str], str]:
    """``(module, private name) -> where`` for names with one leading underscore imported from another module.

    A private *submodule* of one's own package (``from . import _fetch``) is private to that
    package and allowed; ``from x import _name`` of a function, class or variable is not.
    """
    mods = modules()
    known = set(mods)
    found: dict[tuple[str, str], str] = {}
    for name, path in mods.items():
        for target, imported, line in imports(name, path, known):
            if imported.startswith("_") and not imported.startswith("__"):
                found[(name, imported)] = f"{path.relative_to(PACKAGE.parent)}:{line} from {target}"
    return found


# ---- the checker itself ----------------------------------------------------------------------------
def test_the_checker_resolves_relative_imports_and_finds_a_cycle(tmp_path):
    tree = ast.parse("from ..io.saving import load_model\nfrom . import data\nfrom .. import losses\n")
    nodes = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    module = PACKAGE / "models" / "model.py"
    assert [resolve("unafraid.models.model", module, n) for n in nodes] == [
        "unafraid.io.saving", "unafraid.models", "unafraid"]
    package = PACKAGE / "models" / "__init__.py"
    assert resolve("unafraid.models", package, nodes[1]) == "unafraid.models"
    edges = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    assert find_cycles(edges) == [["a", "b", "c", "a"]]
    assert describe(["a", "b", "c", "a"], edges) == "a (line 1) -> b (line 2) -> c (line 3) -> a"
    assert find_cycles({"a": {"b": 1}, "b": {}}) == []


def test_the_checker_sees_imports_inside_functions_but_not_type_checking_ones(tmp_path):
    source = tmp_path / "model.py"
    source.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from ..layers import Dense\n"
                      "def save(self):\n    from ..io.saving import save_model, _private\n"
                      "    from .. import losses\n")
    known = {"unafraid.io.saving", "unafraid.losses", "unafraid.layers"}
    found = imports("unafraid.models.model", source, known)
    assert sorted(found) == [("typing", "TYPE_CHECKING", 1), ("unafraid.io.saving", "_private", 5),
                             ("unafraid.io.saving", "save_model", 5), ("unafraid.losses", "", 6)]
    edges = graph()
    assert "unafraid.io.saving" in edges["unafraid.models.sequential"]
    assert "unafraid.engine.tensor" in edges["unafraid.engine.transforms"]


# ---- the package ----------------------------------------------------------------------------------
def test_no_import_cycles():
    edges = graph()
    cycles = find_cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(describe(c, edges) for c in cycles)


def test_no_private_names_imported_across_modules():
    found = private_imports()
    new = {k: v for k, v in found.items() if k not in PENDING}
    assert not new, ("private names imported from other modules (make them public or move them):\n"
                     + "\n".join(f"{v}: {k[1]}" for k, v in sorted(new.items())))
    gone = sorted(set(PENDING) - set(found))
    assert not gone, f"no longer imported, delete from PENDING: {gone}"


@pytest.mark.parametrize("low,high", [("unafraid.engine", "unafraid.layers"),
                                      ("unafraid.engine", "unafraid.models"),
                                      ("unafraid.io", "unafraid.models"),
                                      ("unafraid.registry", "unafraid.layers")])
def test_lower_layers_never_import_higher_ones(low, high):
    """DESIGN.md: engine <- layers/losses <- models/optimizers <- io...; io is given its class table."""
    edges = graph()
    wrong = {(a, b) for a, targets in edges.items() for b in targets
             if (a == low or a.startswith(low + ".")) and (b == high or b.startswith(high + "."))}
    assert not wrong, f"{low} must not import {high}: {sorted(wrong)}"
