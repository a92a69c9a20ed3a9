"""The package's shape, kept by tests: no import cycles, modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import fedimpute

ROOT = Path(fedimpute.__file__).resolve().parent
#: The one module allowed to be long: the pre-flight's streamed scanner keeps its hot loop together.
LONG_ALLOWED = {"fedimpute.preflight.scan"}
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every fedimpute module ``module`` imports at run time (lazy imports in functions included;
    imports only for type checkers excluded)."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return {name for name in found if name == "fedimpute" or name.startswith("fedimpute.")}


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        imported = _imports(ast.parse(path.read_text()), name, path.name == "__init__.py")
        # ``from fedimpute.x import y`` names a module when y is one, else an attribute of x
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if any (a package importing its own submodules is not one: Python loads
    the package first)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = 1, path.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue  # a package and its own submodules
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_imports__no_cycle_among_fedimpute_modules():
    cycle = _cycle({k: {m for m in v if not k.startswith(m + ".")} for k, v in import_graph().items()})
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports__the_cycle_check_can_fail():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_modules__none_over_the_size_limit():
    long = {name: n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES and (name := _module_name(p)) not in LONG_ALLOWED}
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"
