"""The architecture, kept by a test: who may import whom.

Every import counts, including those inside functions, and importing a module imports its
parent packages first. Layers, from the bottom: series and totals; model families; the
ensemble and the registry; evaluation (handed a model factory, never the registry); the
core that brings them together; then the service, and the command line on top of all.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"models": "exportcast.models", "service": "exportcast.service"}


def module_name(path: Path) -> str:
    folder, *rest = path.relative_to(ROOT).with_suffix("").parts
    parts = [FOLDERS[folder], *rest]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    return {
        module_name(path): path
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def imports_of(path: Path, name: str, known: Iterable[str]) -> set[str]:
    """Every module `path` imports, anywhere in it, resolved to project modules where the
    target is one (`from pkg import mod` names the module `pkg.mod`)."""
    known = set(known)
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    found.add(f"{base}.{alias.name}")
    return found


def graph() -> dict[str, set[str]]:
    files = project_files()
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        targets = {t for t in imports_of(path, name, files) if t in files}
        # Importing a module runs its parent packages' __init__ first.
        for target in list(targets):
            parts = target.split(".")
            targets.update(".".join(parts[:i]) for i in range(2, len(parts)))
        edges[name] = {t for t in targets if t != name and t in files}
    return edges


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def all_imports() -> dict[str, set[str]]:
    files = project_files()
    return {name: imports_of(path, name, files) for name, path in files.items()}


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_anywhere():
    assert cycles(graph()) == []


def offenders(source: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{name} imports {target}"
        for name, targets in all_imports().items()
        if name == source or name.startswith(source + ".")
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        # The engine knows nothing of HTTP, storage or the service.
        (
            "exportcast.models",
            ("exportcast.service", "fastapi", "starlette", "uvicorn", "sqlite3", "psycopg"),
        ),
        # A model family never reaches up to what combines, evaluates or names it.
        (
            "exportcast.models.families",
            (
                "exportcast.models.ensemble",
                "exportcast.models.registry",
                "exportcast.models.evaluation",
                "exportcast.models.core",
                "exportcast.models.simulation",
            ),
        ),
        # The nowcast reads flashes and conditions paths it is handed; it fits no model.
        (
            "exportcast.models.nowcast",
            (
                "exportcast.models.families",
                "exportcast.models.ensemble",
                "exportcast.models.registry",
                "exportcast.models.evaluation",
                "exportcast.models.core",
            ),
        ),
        # The ensemble mixes what it is given; it never runs backtests itself.
        (
            "exportcast.models.ensemble",
            ("exportcast.models.evaluation", "exportcast.models.core"),
        ),
        # Evaluation is handed a model factory instead of importing the registry.
        ("exportcast.models.evaluation", ("exportcast.models.registry", "exportcast.models.core")),
        # The service knows nothing of statsmodels' or Prophet's internals.
        ("exportcast.service", ("statsmodels", "prophet", "cmdstanpy")),
        # The project's own packages are imported by their installed names only.
        ("exportcast", ("models", "service")),
    ],
)
def test_layers(source, forbidden):
    assert offenders(source, forbidden) == []


def test_the_command_line_is_imported_by_nothing_else():
    wrong = [
        f"{name} imports {target}"
        for name, targets in all_imports().items()
        if not name.startswith("exportcast.service.cli")
        for target in targets
        if target.startswith("exportcast.service.cli")
    ]
    assert wrong == []


def test_the_engine_writes_nothing_to_the_terminal():
    """Progress and tables belong to the command line; the engine reports through
    callbacks and return values."""
    printing = []
    for name, path in project_files().items():
        if not name.startswith("exportcast.models"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                printing.append(f"{name}:{node.lineno} print()")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr"):
                printing.append(f"{name}:{node.lineno} sys.{node.attr}")
    assert printing == []


def test_every_package_folder_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    packages = {name for name, path in project_files().items() if path.name == "__init__.py"}
    assert packages == listed
