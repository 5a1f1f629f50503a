"""Every response the actions send is one domain.yml defines: a misspelt name would reach the farmer as nothing."""
from __future__ import annotations

import ast
from typing import List, Optional, Tuple

from settings import PROJECT_ROOT
from tests.actions.conftest import DOMAIN


def _names(value: ast.expr) -> Optional[List[str]]:
    """The response names a `response=` argument can take: a literal, or a choice between literals (else None)."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    if isinstance(value, ast.IfExp):
        body, orelse = _names(value.body), _names(value.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _response_arguments() -> List[Tuple[str, Optional[List[str]]]]:
    """("file:line", names) of every `response=` keyword argument in actions/."""
    found = []
    for path in sorted((PROJECT_ROOT / "actions").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found.extend((f"{path.relative_to(PROJECT_ROOT)}:{keyword.value.lineno}", _names(keyword.value))
                             for keyword in node.keywords if keyword.arg == "response")
    return found


def test_every_response_the_actions_send_is_in_the_domain() -> None:
    arguments = _response_arguments()
    assert len(arguments) > 20, "the actions' responses were not found"
    # Names written out in the code, so this test sees every one of them.
    computed = [place for place, names in arguments if names is None]
    assert computed == [], "response names computed at run time"
    missing = [f"{place} {name}" for place, names in arguments for name in names or []
               if name not in DOMAIN["responses"]]
    assert missing == []
