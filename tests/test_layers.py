"""The Python packages are layered: each imports only the ones below it, and no module import forms a cycle.

From the bottom: settings (environment settings, how dbt is run), raw (generator, loader, contract),
expectations (the GX suites), orchestration (the Dagster job), then the packages that use the job: dashboard
and demo, and benchmarks on top. Imports are read from the source (ast), function-level ones included, so a
late `import` inside a function counts as much as one at the top of a file.

Also: the defaults of the settings dbt's profile reads as well are the same on both sides.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import settings
from settings import REPO_ROOT

# Rank of each package: a package may import packages of a lower rank only (and itself).
LAYERS = {
    "settings": 0,
    "raw": 1,
    "expectations": 2,
    "orchestration": 3,
    "dashboard": 4,
    "demo": 4,
    "benchmarks": 5,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules that module `name` (source file `path`) imports, as absolute names."""
    is_package = path.name == "__init__.py"
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a import b` imports module a.b when there is one, else a member of a.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in LAYERS:
                # The module itself when it is one of ours, else the package it is a member of.
                while target and target not in MODULES:
                    target = target.rpartition(".")[0]
                if target:
                    imported.add(target)
    imported.discard(name)
    return imported


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_every_package_is_found_and_its_imports_are_read():
    for package in LAYERS:
        assert package in MODULES, f"package {package} not found at the repo root"
    # The reader sees an import the orchestration is known to make.
    assert "settings" in GRAPH["orchestration.resources"]


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_only_packages_below_it(package):
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if name.split(".")[0] == package
        for target in targets
        if (other := target.split(".")[0]) != package and LAYERS[other] >= LAYERS[package]
    )
    assert not upward, f"{package} (layer {LAYERS[package]}) imports a package not below it: {upward}"


def _cycle() -> list[str] | None:
    """One import cycle among the project's modules (as a path a -> b -> ... -> a), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(GRAPH.get(node, ())):
            # A package's __init__ imported by its own submodule is how Python loads submodules, not a cycle.
            if node.startswith(target + "."):
                continue
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if state.get(target) is None and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None


def test_no_import_cycle():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """The reader resolves relative imports and late imports inside functions to the module they name."""
    source = tmp_path / "load.py"
    source.write_text("def f():\n    from ...orchestration import settings\n    from .. import contract\n")
    found = _imports("raw.load.cli", source)
    assert found == {"orchestration", "raw.contract"}


def test_the_profile_and_the_settings_have_the_same_defaults():
    profile = (REPO_ROOT / "profiles.yml").read_text()
    in_profile = dict(re.findall(r"env_var\(\s*'(\w+)'\s*,\s*'([^']*)'\s*\)", profile))
    shared = sorted(set(in_profile) & set(settings.DEFAULTS))
    assert {"WAREHOUSE_PATH", "DUCKDB_MEMORY_LIMIT"} <= set(shared), shared
    assert {var: in_profile[var] for var in shared} == {var: settings.DEFAULTS[var] for var in shared}
