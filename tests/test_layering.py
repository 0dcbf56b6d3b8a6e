"""The house rules of imports, checked on the source (every import, also those inside functions).

- Layers: data flows one way. A module imports only from its own layer or the layers below it:

  0. ``metafeatures`` (importable on its own), ``autometa.exceptions``, ``autometa._version``
  1. ``autometa.datasets``
  2. ``autometa.spaces``, ``autometa.protocol``, ``autometa.groups``, ``autometa.storage``,
     ``autometa.corpus``
  3. ``autometa.knowledge``, ``autometa.collect``, ``autometa.encoder``, ``autometa.peers``,
     ``autometa.deepkernel``
  4. ``autometa.metamodel``
  5. ``autometa.optuna``, ``autometa._suggest``, ``autometa._tune``, ``autometa.sklearn``
  6. ``autometa.benchmark``
  7. ``autometa.cli`` and the package's front door ``autometa`` (its ``__init__``)

- No import circle between modules, whatever their layers.
- No module imports a private name (``_name``) or a private module of another package: what a
  package offers to the others is what its ``__init__`` (or a public module) exports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autometa", "metafeatures")
LAYERS = [
    ["metafeatures", "autometa.exceptions", "autometa._version"],
    ["autometa.datasets"],
    ["autometa.spaces", "autometa.protocol", "autometa.groups", "autometa.storage", "autometa.corpus"],
    ["autometa.knowledge", "autometa.collect", "autometa.encoder", "autometa.peers", "autometa.deepkernel"],
    ["autometa.metamodel"],
    ["autometa.optuna", "autometa._suggest", "autometa._tune", "autometa.sklearn"],
    ["autometa.benchmark"],
    ["autometa.cli", "autometa"],
]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES.get(module, Path()).name == "__init__.py"


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import of `module` into our packages."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if _is_package(module) else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in MODULES:  # `from package import submodule`
                    found.append((target, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return [(m, n, line) for m, n, line in found if m.split(".")[0] in PACKAGES]


def _owner(module: str) -> str:
    """The nearest module of ours that `module` is or lies in (``a.b.c`` for an attribute path)."""
    while module not in MODULES:
        module = module.rpartition(".")[0]
    return module


def _layer(module: str) -> int:
    best, best_prefix = None, -1
    for index, members in enumerate(LAYERS):
        for prefix in members:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_prefix:
                best, best_prefix = index, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _name, _line in _imports(module):
            target = _owner(target)
            if target != module:
                graph[module].add(target)
    return graph


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)


def test_nothing_imports_upward():
    upward = []
    for module in MODULES:
        for target, _name, line in _imports(module):
            target = _owner(target)
            if _layer(target) > _layer(module):
                upward.append(
                    f"{MODULES[module].relative_to(ROOT)}:{line}: {module} (layer {_layer(module)}) "
                    f"imports {target} (layer {_layer(target)})"
                )
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    graph = _edges()
    # A module's package __init__ runs before it, but that is not an import of ours: only edges count.
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [node, nxt]) if nxt in path else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert not cycles, "\n".join(cycles)


def _private_owner(target: str, name: str | None) -> str | None:
    """The package a private module or name belongs to (None: public). ``a.b._c`` belongs to
    ``a.b``; a private name ``_x`` of module ``a.b.c`` belongs to the package ``a.b``."""
    parts = target.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:index])
    if name is not None and name.startswith("_") and not name.startswith("__"):
        return target if _is_package(target) else target.rpartition(".")[0]
    return None


def test_no_private_name_crosses_a_package():
    crossings = []
    for module in MODULES:
        for target, name, line in _imports(module):
            owner = _private_owner(_owner(target), name)
            if owner is not None and not (module == owner or module.startswith(owner + ".")):
                what = f"{target}.{name}" if name else target
                crossings.append(f"{MODULES[module].relative_to(ROOT)}:{line}: {module} imports private {what}")
    assert not crossings, "\n".join(crossings)


def test_benchmark_scripts_use_the_public_api():
    """The programs in benchmarks/ stand outside every package: they use what users can use."""
    crossings = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        MODULES["benchmarks." + path.stem] = path
        try:
            for target, name, line in _imports("benchmarks." + path.stem):
                if _private_owner(_owner(target), name) is not None:
                    what = f"{target}.{name}" if name else target
                    crossings.append(f"{path.relative_to(ROOT)}:{line}: imports private {what}")
        finally:
            del MODULES["benchmarks." + path.stem]
    assert not crossings, "\n".join(crossings)


@pytest.mark.parametrize("forbidden", ["autometa.metamodel", "autometa.benchmark"])
def test_the_checker_sees_an_upward_import(forbidden, monkeypatch):
    """The rules can fail: a lower module importing a higher one is caught."""
    original = _imports

    def with_extra(module):
        extra = [(forbidden, None, 1)] if module == "autometa.spaces" else []
        return original(module) + extra

    monkeypatch.setitem(globals(), "_imports", with_extra)
    with pytest.raises(AssertionError, match="autometa.spaces"):
        test_nothing_imports_upward()
