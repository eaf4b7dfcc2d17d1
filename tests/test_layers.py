"""Every import arrow in mleopt points down: no module import forms a circle.

The check reads the import statements of mleopt's own modules (module-level and inside
functions): ``from .x import y``, ``from ..x import y``, ``import mleopt.x``, ``from mleopt
import x``. A package's ``__init__`` importing its own children is not counted as a circle
(a child importing the package it lives in is how Python imports it anyway). It mirrors
shared/tools/import_cycles.py but lives here so the test does not depend on shared/.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mleopt"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _known(name: str, modules: set[str]) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """{module: the modules of the package it imports}."""
    files = {_module_name(p): p for p in package.rglob("*.py")}
    modules = set(files)
    graph = {}
    for mod, path in files.items():
        base = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    pkg = base
                    for _ in range(node.level - 1):
                        pkg = pkg.rpartition(".")[0]
                    head = f"{pkg}.{node.module}" if node.module else pkg
                else:
                    head = node.module or ""
                names = [head] + [f"{head}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = _known(name, modules)
                if target and target != mod and not (
                        mod.startswith(target + ".") and files[target].name == "__init__.py"):
                    edges.add(target)
        graph[mod] = edges
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle a -> b -> ... -> a of the graph, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return path[path.index(w):] + [w]
            if w not in state:
                found = visit(w)
                if found:
                    return found
        path.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def test_the_check_finds_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_relative_and_absolute_imports():
    graph = import_graph()
    assert "mleopt.ad.core" in graph["mleopt.ad.primitives"]       # from .core import ...
    assert "mleopt.ad" in graph["mleopt._numpy_base"]                # from .ad import primitives
    assert "mleopt._numpy_base" in graph["mleopt.numpy"]             # from ._numpy_base import *
    assert "mleopt.ad.api" in graph["mleopt.models.base"]            # from ..ad.api import ...


def test_no_import_circles():
    circle = find_circle(import_graph())
    assert circle is None, "import circle: " + " -> ".join(circle)


def test_the_engine_knows_nothing_of_the_namespaces():
    """mleopt.ad imports nothing of mleopt outside mleopt.ad, not even by name at run time."""
    outside = {(mod, dep) for mod, deps in import_graph().items()
               if mod.startswith("mleopt.ad") for dep in deps
               if not dep.startswith("mleopt.ad")}
    assert not outside, sorted(outside)
    dynamic = [path.name for path in (PACKAGE / "ad").rglob("*.py")
               if "importlib" in path.read_text() or "__import__" in path.read_text()]
    assert not dynamic, dynamic


# --- the namespaces register with the engine ---------------------------------------------

def test_the_engine_works_with_only_mleopt_ad_imported():
    """Array methods and numpy's dispatch reach mleopt.numpy without the user importing it
    (the package registers it on import), as before the engine stopped importing it."""
    code = ("import numpy as np\n"
            "from mleopt.ad import grad, tensor\n"
            "x = tensor([1.0, 2.0, 4.0], requires_grad=True)\n"
            "x.mean().backward()\n"
            "print(x.grad.tolist(), grad(lambda v: np.sum(v.std() * v))(np.array([1.0, 3.0])).tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    # d mean / dx = 1/3; d/dv sum(std(v) * v) at (1, 3): std = 1, dstd/dv = (-1/2, 1/2), sum v = 4
    assert out.stdout.split() == ["[0.3333333333333333,", "0.3333333333333333,",
                                  "0.3333333333333333]", "[-1.0,", "3.0]"], out.stdout


def test_a_lookup_before_registration_is_a_clear_error(monkeypatch):
    from mleopt.ad import core, grad
    monkeypatch.delitem(core._REGISTERED, "numpy")
    with pytest.raises(core.TraceError, match=r"mleopt\.numpy.*not registered.*import mleopt"):
        grad(lambda v: v.mean())(np.ones(3))


def test_register_namespace_refuses_an_unknown_name():
    from mleopt.ad import core
    with pytest.raises(ValueError, match=r"unknown namespace 'nmupy'.*'numpy'"):
        core.register_namespace("nmupy", np)
