"""The tree shows the architecture: layers import downward only, no cycles, small modules.

The import graph is read from the source (every ``import`` and ``from … import`` of the package,
lazy ones inside functions and type-only ones under ``if TYPE_CHECKING:`` included: a circle of
types is a circle of knowledge all the same), so the test needs nothing imported and names the
file and line of an offending import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "mkdocs_wxcloud"
ROOT = "mkdocs_wxcloud"

# layer -> the layers it may import (besides itself)
BASE = {"errors", "atomic", "caches", "children"}  # the base: one-line errors, atomic writes, caches, workers
ALLOWED = {
    "errors": set(),
    "atomic": set(),
    "caches": {"atomic"},
    "children": set(),
    "references": BASE,
    "manifest": BASE,
    "wechat": BASE,
    "optimize": BASE,
    "remote": {*BASE, "references"},
    "emulator": set(),
    "publishing": {*BASE, "references", "manifest", "wechat", "optimize", "remote"},
    "hosts": {*BASE, "references", "manifest", "wechat", "optimize", "remote", "publishing"},
    "cli": {*BASE, "references", "manifest", "wechat", "optimize", "remote", "publishing", "hosts"},
}
EMULATOR_IMPORTERS = {"mkdocs_wxcloud.cli.emulator", "mkdocs_wxcloud.publishing.connection"}
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
MAX_CONSTRUCTOR_PARAMETERS = 6  # more means settings shredded into tramp arguments: pass a value instead


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = [ROOT, *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    return {"extension": "hosts"}.get(parts[1], parts[1])  # the documented shim belongs to the hosts


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is: module level, in a function, under ``if TYPE_CHECKING:``."""
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """``(imported module of the package, line)`` for every import in ``module``."""
    return _imports_of(module, path.name == "__init__.py", path.read_text(encoding="utf-8"))


def _imports_of(module: str, is_package: bool, source: str) -> list[tuple[str, int]]:
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import mod` imports the submodule; `from mod import name` the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        out += [(t, node.lineno) for t in targets if t == ROOT or t.startswith(ROOT + ".")]
    return out


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}"


def test_every_import_resolves_to_a_module_of_the_package() -> None:
    unknown = [f"{_where(m, line)}: {t}" for m, edges in GRAPH.items() for t, line in edges if t not in MODULES]
    assert not unknown


def test_layers_import_downward_only() -> None:
    upward = []
    for module, edges in GRAPH.items():
        mine = _layer(module)
        for target, line in edges:
            theirs = _layer(target)
            if theirs == mine or (mine == "package"):
                continue
            if theirs == "emulator":
                if module not in EMULATOR_IMPORTERS:
                    upward.append(f"{_where(module, line)}: {module} imports the emulator")
            elif theirs not in ALLOWED.get(mine, set()):
                upward.append(f"{_where(module, line)}: {mine} may not import {theirs} ({target})")
    assert not upward, "\n".join(upward)


def test_the_package_root_imports_nothing() -> None:
    """``import mkdocs_wxcloud`` must stay free: every host imports it first."""
    assert GRAPH[ROOT] == []


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target, _ in GRAPH.get(module, []):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in GRAPH:
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_classes_stay_small(module: str) -> None:
    text = MODULES[module].read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, f"{module} has {text.count(chr(10))} lines: split it by concern"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            assert size <= MAX_CLASS_LINES, f"{module}.{node.name} has {size} lines"
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            args = node.args
            count = len(args.posonlyargs) + len(args.args) - 1 + len(args.kwonlyargs) + bool(args.vararg)
            assert count <= MAX_CONSTRUCTOR_PARAMETERS, f"{module}: a constructor takes {count} parameters"


def test_every_subpackage_says_its_job_and_what_it_may_import() -> None:
    for path in PACKAGE.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring, f"{path} has no docstring"
    for layer in ALLOWED:
        if (PACKAGE / layer).is_dir():
            docstring = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8")))
            assert "import" in (docstring or "").lower(), f"{layer}/__init__.py does not say what it may import"


def test_the_graph_sees_real_imports() -> None:
    """Guard the guard: known edges are found, relative and lazy ones included."""
    edges = {t for t, _ in GRAPH["mkdocs_wxcloud.publishing.connection"]}
    assert "mkdocs_wxcloud.emulator" in edges and "mkdocs_wxcloud.publishing.settings" in edges
    assert ("mkdocs_wxcloud.hosts.markdown.extension", 3) in GRAPH["mkdocs_wxcloud.extension"]


def test_type_only_imports_are_edges_too() -> None:
    """An import under ``if TYPE_CHECKING:`` makes an edge, so a circle hidden there is still found."""
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .app import Emulator\n"
    assert _imports_of("mkdocs_wxcloud.emulator.server", False, source) == [("mkdocs_wxcloud.emulator.app", 3)]
