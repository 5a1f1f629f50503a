"""Kept messages (knowledge.outbox.deferred) claimed by two processes at once, on SQLite and on PostgreSQL."""
from __future__ import annotations

import datetime as dt

from knowledge.outbox.deferred import (
    DEFERRED_LEASE,
    answer_deferred,
    claim_deferred,
    deferred_answers,
    deferred_counts,
    keep_message,
)

NOW = dt.datetime(2026, 11, 30, 7, 0)


def test_each_farmer_is_answered_in_order_and_no_message_is_claimed_twice(kb) -> None:
    with kb.scope() as session:
        for number in (1, 2, 3):
            for farmer in ("web-a", "web-b"):
                keep_message(session, farmer, f"{farmer} {number}", {"channel": "webchat"}, now=NOW)
    # Two processes, each in its own transaction: each farmer's oldest message goes to the first, nothing to the second.
    first, second = kb.session(), kb.session()
    try:
        mine = claim_deferred(first, "gateway-1", limit=10, now=NOW)
        first.commit()
        theirs = claim_deferred(second, "gateway-2", limit=10, now=NOW)
        second.commit()
    finally:
        first.close()
        second.close()
    assert sorted(job.text for job in mine) == ["web-a 1", "web-b 1"]
    assert theirs == [], "a farmer's next message waits until the earlier one is answered"
    with kb.scope() as session:
        assert answer_deferred(session, mine[0].id, "答1", now=NOW)
        assert not answer_deferred(session, mine[0].id, "答1 again", now=NOW), "settled once"
        nxt = claim_deferred(session, "gateway-2", limit=10, now=NOW)
    assert [job.text for job in nxt] == [mine[0].text.replace("1", "2")]
    with kb.scope() as session:
        assert [push.text for push in deferred_answers(session, mine[0].sender_id)] == ["答1"]
        assert deferred_counts(session) == {"answered": 1, "answering": 2, "waiting": 3}


def test_a_claim_whose_process_died_is_taken_over_after_the_lease_and_answered_once(kb) -> None:
    with kb.scope() as session:
        kept = keep_message(session, "tg-9", "玉米多少钱", {"channel": "telegram"}, answering_by="gateway-1", now=NOW)
    with kb.scope() as session:
        assert claim_deferred(session, "gateway-2", limit=5, now=NOW + DEFERRED_LEASE / 2) == []
        [job] = claim_deferred(session, "gateway-2", limit=5, now=NOW + DEFERRED_LEASE * 2)
    assert job.id == kept and job.metadata == {"channel": "telegram"}
    with kb.scope() as session:
        assert answer_deferred(session, kept, "玉米：1.00元/斤")
    with kb.scope() as session:
        assert not answer_deferred(session, kept, "the first process's answer, come at last")
        assert [push.text for push in deferred_answers(session)] == ["玉米：1.00元/斤"]
