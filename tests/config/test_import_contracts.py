"""The layering as a contract over the import graph: the front ends (gateway, actions, console) and the NLU
components build on knowledge/, settings.py and logs.py only, never on each other; the data layer builds on
none of them."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

import pytest

from settings import PROJECT_ROOT

OURS = {"actions", "bench", "bot", "console", "knowledge", "logs", "nlu", "scripts", "settings", "tests"}
SHARED = {"knowledge", "settings", "logs"}
ALLOWED = {
    "bot": SHARED, "actions": SHARED, "console": SHARED, "nlu": SHARED, "knowledge": {"settings", "logs"},
}
# Modules of actions/ and bot/ that still build SQL themselves; the data-layer work moves that into
# knowledge/ and empties this list (the test fails when it is shorter than the truth or longer).
STILL_IMPORTING_SQLALCHEMY = {
    "actions/farmers.py", "actions/feedback.py", "actions/handoff.py", "actions/knowledge_access.py",
    "actions/subscriptions.py", "bot/knowledge_access.py",
}


def _imported_top_names(path: Path) -> Set[str]:
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _imports_of(package: str) -> Dict[str, Set[str]]:
    return {str(path.relative_to(PROJECT_ROOT)): _imported_top_names(path)
            for path in sorted((PROJECT_ROOT / package).rglob("*.py"))}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package: str) -> None:
    allowed = ALLOWED[package] | {package}
    wrong = {module: sorted((names & OURS) - allowed) for module, names in _imports_of(package).items()}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_actions_and_the_gateway_leave_sql_to_knowledge() -> None:
    importing = {module for package in ("actions", "bot") for module, names in _imports_of(package).items()
                 if "sqlalchemy" in names}
    assert importing == STILL_IMPORTING_SQLALCHEMY
