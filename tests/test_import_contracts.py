"""The import rules of the layout, read from the source (every module's AST, imports inside functions too).

bot/, actions/ and console/ are front ends over one data layer: each imports only itself, knowledge,
settings, the one logging setup (logs) and the shared leaf modules (wording), never another front
end. Only knowledge/ talks SQL, so only it imports SQLAlchemy. knowledge/ and the shared leaves import
no front end (the knowledge CLI, a process of its own, sets up logging through logs like the others).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_MODULES = {"actions", "bench", "bot", "console", "forwarded", "knowledge", "logs", "metrics", "nlu",
                   "rasa_extensions",
                   "scripts", "settings", "tests", "wording"}
FRONT_ENDS = ("bot", "actions", "console")
SHARED_LEAVES = ("wording", "forwarded", "metrics")
SHARED = {"knowledge", "settings", "logs", *SHARED_LEAVES}


def _sources(name: str) -> List[Path]:
    single = PROJECT_ROOT / f"{name}.py"
    return [single] if single.is_file() else sorted((PROJECT_ROOT / name).rglob("*.py"))


def _imports(name: str) -> Iterator[Tuple[str, str]]:
    """(where, imported module) for every absolute import in the package or module `name`."""
    for path in _sources(name):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(PROJECT_ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield f"{where}:{node.lineno}", alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield f"{where}:{node.lineno}", node.module


def _breaches(name: str, forbidden) -> List[str]:
    return [f"{where} imports {module}" for where, module in _imports(name) if forbidden(module.split(".")[0])]


def test_the_contracts_see_imports_inside_functions_too():
    imported = {module for _, module in _imports("bot")}
    assert {"knowledge.db", "wording", "telegram"} <= imported


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_a_front_end_imports_only_knowledge_settings_and_shared_leaves(front_end):
    allowed = SHARED | {front_end}
    assert _breaches(front_end, lambda top: top in PROJECT_MODULES and top not in allowed) == []


@pytest.mark.parametrize("name", ["knowledge", *SHARED_LEAVES])
def test_the_data_layer_and_shared_leaves_import_no_front_end(name):
    callers = {"bot", "actions", "console", "bench", "scripts", "tests"} | (set(SHARED_LEAVES) - {name})
    assert _breaches(name, lambda top: top in callers) == []


@pytest.mark.parametrize("name", ["bot", "actions", "console", "nlu", "rasa_extensions", "settings", "logs",
                                  *SHARED_LEAVES])
def test_only_knowledge_imports_sqlalchemy(name):
    assert _breaches(name, lambda top: top == "sqlalchemy") == []
