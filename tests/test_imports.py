"""The project's modules import without circles: a graph of every import (lazy ones in functions too), and
each module of the two former circles imported first in a fresh interpreter."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("perceive", "prompting", "chat", "bench", "batch", "prompts")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def _imports(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    """The project modules a module imports anywhere (in functions too), but not under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found |= set().union(*(_imports(n, known) for n in node.orelse)) if node.orelse else set()
            continue
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        found |= _imports(node, known)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports."""
    known = _modules()
    return {name: _imports(ast.parse(path.read_text()), known) - {name} for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

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
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_circle_through_a_lazy_import():
    tree = ast.parse("import perceive.models\ndef f():\n    from perceive.cache import cache_root\n")
    known = {"perceive.models": ROOT, "perceive.cache": ROOT}
    assert _imports(tree, known) == {"perceive.models", "perceive.cache"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    typing_only = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import perceive.cache\n")
    assert _imports(typing_only, known) == set()


def test_no_module_of_the_project_imports_itself_through_others():
    graph = import_graph()
    assert {"perceive.models", "perceive.cache", "prompting.context", "prompting.facts"} <= set(graph)
    assert cycles(graph) == []


@pytest.mark.parametrize("module", ["perceive.models", "perceive.cache", "perceive.pipeline", "perceive.split_model",
                                    "prompting.context", "prompting.facts"])
def test_each_module_of_the_former_circles_imports_first_in_a_fresh_interpreter(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
