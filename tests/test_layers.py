"""The import graph of ``src/impact`` points one way, down the flow (an architecture test, no oracle needed).

Every ``import`` and ``from ... import`` in the package is read with :mod:`ast`, at module level and
inside functions alike. The test fails on

* an import that points up a layer (``design`` importing ``effects``, ``report`` importing ``pipeline``);
* any cycle between modules, also inside one package (``survival._cox`` <-> ``survival._zph``);
* a module that reads a private module or a private name of another package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "impact"

#: the layers in flow order; a package may import its own modules and any package in an earlier layer
LAYERS: list[tuple[str, ...]] = [
    ("_version", "_errors", "_progress", "_display"),
    ("_compat",),
    ("_validation",),
    ("labels",),
    ("data",),
    ("registers",),
    ("datasets", "synthetic"),
    ("diagnostics",),
    ("design",),
    ("outcomes",),
    ("survival",),
    ("plotting",),
    ("effects",),
    ("sensitivity",),
    ("publish",),
    ("monitor",),
    ("report",),
    ("pipeline",),
    ("cli",),
    # old module paths kept for this version; they re-export and nothing imports them
    ("balance", "config", "evaluation", "privacy", "synthetic_monitoring"),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every import in the file, resolved to absolute names."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "impact"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "impact":
                out.append((target, [a.name for a in node.names], node.lineno))
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


FILES = sorted(SRC.rglob("*.py"))
GRAPH = {_module_name(p): _imports(p) for p in FILES}


def _resolve(target: str, names: list[str]) -> list[str]:
    """The modules an import loads: ``from impact.survival import _cox`` loads ``impact.survival._cox``."""
    subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in GRAPH]
    return [target, *subs] if target in GRAPH else subs


def test_every_package_has_a_layer():
    packages = {_package(m) for m in GRAPH} - {""}
    assert packages <= set(RANK), f"packages without a layer: {sorted(packages - set(RANK))}"


def test_imports_point_down_the_flow():
    upward = []
    for module, imports in GRAPH.items():
        own = _package(module)
        if not own:  # the facade impact/__init__ only imports lazily, on attribute access
            continue
        for target, _names, line in imports:
            other = _package(target)
            if other and other != own and RANK[other] >= RANK[own]:
                upward.append(f"{module}:{line} imports {target} ({other} is not below {own})")
            if not other:
                upward.append(f"{module}:{line} imports the facade 'impact'; import the package itself")
    assert not upward, "imports that point up or across the flow:\n" + "\n".join(upward)


def test_no_private_names_across_packages():
    private = []
    for module, imports in GRAPH.items():
        own = _package(module)
        for target, names, line in imports:
            other = _package(target)
            if not other or other == own or other in LAYERS[-1]:
                continue
            inner = target.split(".")[2:]
            if any(p.startswith("_") for p in inner) or any(n.startswith("_") and not n.startswith("__") for n in names):
                private.append(f"{module}:{line} from {target} import {', '.join(names)}")
    assert not private, "private modules or names read from another package:\n" + "\n".join(private)


def test_no_import_cycles():
    edges = {m: sorted({d for t, n, _ in imps for d in _resolve(t, n) if d != m}) for m, imps in GRAPH.items()}
    # a package's __init__ re-exports its modules; an edge into a package means an edge into its __init__
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        stack.append(m)
        for d in edges.get(m, []):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("mutation", ["upward", "cycle"])
def test_the_checks_catch_a_violation(mutation, monkeypatch):
    """The graph test itself is tested: a planted upward import or cycle is reported."""
    fake = {k: list(v) for k, v in GRAPH.items()}
    if mutation == "upward":
        fake["impact.design._match"].append(("impact.effects", ["estimate_effects"], 1))
        monkeypatch.setattr(__import__(__name__), "GRAPH", fake, raising=False)
        with pytest.raises(AssertionError, match="impact.design._match:1 imports impact.effects"):
            test_imports_point_down_the_flow()
    else:
        fake["impact.survival._km"].append(("impact.survival._aj", [], 1))
        fake["impact.survival._aj"].append(("impact.survival._km", [], 1))
        monkeypatch.setattr(__import__(__name__), "GRAPH", fake, raising=False)
        with pytest.raises(AssertionError, match="import cycles"):
            test_no_import_cycles()
