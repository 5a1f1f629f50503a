"""The golden conversations (tests/golden/conversations.yml) through real Rasa and action servers.

Prints the score per kind and overall on every run, writes every reply to
var/golden/conversations_report.json, and fails only when a score falls under its floor in
tests/golden/thresholds.yml.
"""
from __future__ import annotations

import pytest

from settings import PROJECT_ROOT
from tests.golden.conversation_set import load_conversations
from tests.golden.run_conversations import (
    flat_scores,
    floors,
    format_failures,
    format_report,
    run_conversations,
    score,
    write_json,
)
from tests.golden.thresholds import load_thresholds, shortfalls

pytestmark = pytest.mark.integration

REPORT_PATH = PROJECT_ROOT / "var" / "golden" / "conversations_report.json"


def test_golden_conversations_score_at_least_their_floors(rasa_stack, capsys) -> None:
    results = run_conversations(rasa_stack["rasa_url"], load_conversations())
    report = score(results)
    write_json(REPORT_PATH, report, results)
    with capsys.disabled():
        print(f"\nGolden conversations (every reply in {REPORT_PATH.relative_to(PROJECT_ROOT)}):")
        print(format_report(report))
    missing = shortfalls(flat_scores(report), floors(load_thresholds()))
    assert not missing, "under the floor: " + "; ".join(missing) + "\n\n" + format_failures(results)
