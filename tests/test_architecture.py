"""The architecture as a contract: packages import only the layers before them, there are no
import cycles, database drivers and SQL live in `catalogue` alone, and the UI uses the library's
public API. Every import counts, inside functions and under TYPE_CHECKING too."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest

from conftest import REPO_DIR

PACKAGE_DIR = REPO_DIR / "src" / "speechgraph"
UI_DIR = REPO_DIR / "ui"
# The data flow, first to last: a module may import its own layer and the layers before it.
LAYERS = [
    {"config", "errors", "records", "ids", "text", "files"},
    {"clients"},
    {"lists"},
    {"catalogue"},
    {"knowledge"},
    {"search"},
    {"graph"},
    {"update"},
    {"views"},
    {"cli"},
]
ENTRY_POINTS = {"speechgraph", "speechgraph.__main__"}
DATABASE_DRIVERS = {"sqlite3", "sqlalchemy", "sqlmodel", "psycopg", "psycopg2"}
SQL_TEXT = re.compile(
    r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH|REPLACE)\b|"
    r"\b(?:SELECT\s.+\sFROM|INSERT\s+INTO|DELETE\s+FROM|CREATE\s+(?:VIRTUAL\s+)?TABLE)\b",
    re.S,
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def ui_files() -> list[Path]:
    return sorted(UI_DIR.rglob("*.py"))


def imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, at any depth of its syntax tree. `from x import y` counts
    as an import of `x.y` when that is a module of the project, else of `x`."""
    known = project_modules()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            found.extend(name for name in submodules if name in known)
            if any(name not in known for name in submodules):
                found.append(node.module)
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "speechgraph" or len(parts) < 2:
        return None
    for position, members in enumerate(LAYERS):
        if parts[1] in members:
            return position
    return None


def project_modules() -> set[str]:
    return {module_name(path) for path in library_files()}


def speechgraph_imports(path: Path) -> set[str]:
    """The project modules `path` imports."""
    known = project_modules()
    return {name for name in imported_modules(path) if name in known}


def test_every_library_module_belongs_to_a_layer() -> None:
    for path in library_files():
        name = module_name(path)
        assert name in ENTRY_POINTS or layer_of(name) is not None, f"{name} is in no layer"


def test_imports_point_only_to_earlier_layers() -> None:
    wrong = []
    for path in library_files():
        name = module_name(path)
        if name in ENTRY_POINTS:
            continue
        own = layer_of(name)
        for target in speechgraph_imports(path):
            theirs = layer_of(target)
            if theirs is not None and own is not None and theirs > own:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "imports against the data flow:\n" + "\n".join(sorted(wrong))


def test_peer_packages_do_not_import_each_other() -> None:
    """Within a layer of several members (the ground modules), imports stay one way."""
    graph = nx.DiGraph()
    for path in library_files():
        for target in speechgraph_imports(path):
            graph.add_edge(module_name(path), target)
    cycles = list(nx.simple_cycles(graph.subgraph(n for n in graph if n not in ENTRY_POINTS)))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_there_are_no_import_cycles_between_packages() -> None:
    graph = nx.DiGraph()
    for path in library_files():
        source = module_name(path).split(".")[:2]
        for target in speechgraph_imports(path):
            graph.add_edge(".".join(source), ".".join(target.split(".")[:2]))
    graph.remove_nodes_from(ENTRY_POINTS)
    cycles = [cycle for cycle in nx.simple_cycles(graph) if len(cycle) > 1]
    assert not cycles, "package cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_database_drivers_are_imported_only_in_the_catalogue() -> None:
    wrong = []
    for path in [*library_files(), *ui_files()]:
        inside = path.is_relative_to(PACKAGE_DIR / "catalogue")
        drivers = {name.split(".")[0] for name in imported_modules(path)} & DATABASE_DRIVERS
        if drivers and not inside:
            wrong.append(f"{path.relative_to(REPO_DIR)} imports {', '.join(sorted(drivers))}")
    assert not wrong, "\n".join(wrong)


def sql_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SQL_TEXT.search(node.value)
    ]


def test_sql_text_appears_only_in_the_catalogue() -> None:
    wrong = defaultdict(list)
    for path in [*library_files(), *ui_files()]:
        if path.is_relative_to(PACKAGE_DIR / "catalogue"):
            continue
        for text in sql_strings(path):
            wrong[str(path.relative_to(REPO_DIR))].append(text[:60])
    assert not wrong, dict(wrong)


@pytest.mark.parametrize("text", ["SELECT id FROM paper", "create virtual table x using fts5(a)"])
def test_the_sql_check_recognises_sql(text: str, tmp_path: Path) -> None:
    module = tmp_path / "leak.py"
    module.write_text(f"QUERY = {text.upper()!r}\n", encoding="utf-8")
    assert sql_strings(module)


def test_the_ui_uses_only_the_public_api() -> None:
    wrong = []
    for path in ui_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("speechgraph"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                if private or any(part.startswith("_") for part in node.module.split(".")):
                    wrong.append(f"{path.name}: from {node.module} import {', '.join(private)}")
                if node.module.startswith("speechgraph.catalogue.schema"):
                    wrong.append(f"{path.name}: imports the schema ({node.module})")
    assert not wrong, "\n".join(wrong)
