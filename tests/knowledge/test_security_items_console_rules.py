"""Security items 4, 7 and 12 of issue 13 where the rule lives in knowledge/ (both backends where a DB is involved).

4: which audit entries an officer may read, per kind of row.
7: sign-in failures are counted by the database, every failure reads alike and costs one argon2 check,
   and an anonymous attacker cannot keep an account locked.
12: the tracker reader narrows to any number of sender ids.
"""
from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest
from sqlalchemy import create_engine, insert, select

from knowledge.audit import record_change
from knowledge.catalog.lookup import find_region
from knowledge.catalog.regions import region_ids_below
from knowledge.conversations.tracker import EVENTS, ConversationFilter, TrackerReader
from knowledge.models import Farmer, HandoffTicket, Market, PriceRecord, utcnow
from knowledge.people.accounts import create_account, set_account_active
from tests.postgres import PostgresServer
from tests.sqlite_limits import UPSTREAM_VARIABLE_LIMIT, limit_variables

PASSWORD = "long-enough-password"


def _officer(kb, username: str, region: str) -> int:
    with kb.scope() as session:
        return create_account(session, username, PASSWORD, "officer", region_name=region, actor="admin").id


def test_item04_audit_entries_an_officer_may_read(kb) -> None:
    from knowledge.audit import AuditViewer, audit_page

    own_id = _officer(kb, "zhang", "丰台区")
    other_id = _officer(kb, "li", "藁城区")
    with kb.scope() as session:
        fengtai, gaocheng = find_region(session, "丰台区"), find_region(session, "藁城区")
        market = session.scalars(select(Market).where(Market.region_id == fengtai.id)).first()
        local_price = session.scalars(select(PriceRecord.id).where(PriceRecord.market_id == market.id)).first()
        national_price = session.scalars(select(PriceRecord.id).join(Market).where(
            Market.region_id.notin_(region_ids_below(session, fengtai.id)))).first()
        farmer_here = Farmer(sender_id="tg-1", channel="telegram", region=fengtai)
        farmer_there = Farmer(sender_id="tg-2", channel="telegram", region=gaocheng)
        session.add_all([farmer_here, farmer_there])
        session.flush()
        ticket_there = HandoffTicket(farmer=farmer_there, question="?", conversation_id="tg-2", region=gaocheng)
        ticket_nowhere = HandoffTicket(farmer=farmer_here, question="?", conversation_id="tg-1", region=None)
        session.add_all([ticket_there, ticket_nowhere])
        session.flush()
        visible = {
            record_change(session, "admin", "update", "price_record", local_price, None, {"n": 1}),
            record_change(session, "zhang", "update", "price_record", national_price, None, {"n": 2}),  # own
            record_change(session, "tg-1", "set_region", "farmer", farmer_here.id, None, {"region": "丰台区"}),
            record_change(session, "admin", "link_code", "account", own_id, None, {"username": "zhang"}),
        }
        hidden = {
            record_change(session, "admin", "update", "price_record", national_price, None, {"n": 3}),
            record_change(session, "tg-2", "set_region", "farmer", farmer_there.id, None, {"region": "藁城区"}),
            record_change(session, "li", "answer", "handoff_ticket", ticket_there.id, None, {"answer": "x"}),
            record_change(session, "admin", "answer", "handoff_ticket", ticket_nowhere.id, None, {"answer": "y"}),
            record_change(session, "li", "link_telegram", "account", other_id, None, {"telegram_user_id": "9"}),
            record_change(session, "admin", "create", "topic_alias", None, None, {"alias": "z"}),
            record_change(session, "reviewer", "create", "conversation_review", 1, None, {"note": "n"}),
            record_change(session, "someone", "create", "a_kind_added_later", 1, None, {}),
        }
        session.flush()
        viewer = AuditViewer(username="zhang", account_id=own_id, region_ids=region_ids_below(session, fengtai.id))
        shown = {entry.id for entry in audit_page(session, viewer=viewer, size=500).rows}
        everything = {entry.id for entry in audit_page(session, size=500).rows}
    assert {entry.id for entry in visible} <= shown
    assert not shown & {entry.id for entry in hidden}
    assert {entry.id for entry in visible | hidden} <= everything


def _limits(**changes):
    from knowledge.people.login import LoginLimits

    return LoginLimits(**changes)


def test_item07_parallel_failures_are_counted_by_the_database(kb) -> None:
    from knowledge.people.login import attempt_login

    _officer(kb, "zhang", "丰台区")
    limits = _limits(max_failures=5)
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda number: attempt_login(kb.factory, "zhang", "wrong", f"10.0.0.{number}",
                                                             limits), range(12)))
    assert all(result.account_id is None for result in results)
    assert attempt_login(kb.factory, "zhang", PASSWORD, "10.0.1.1", limits).account_id is None  # locked


def test_item07_every_failure_reads_alike_and_costs_one_password_check(kb, monkeypatch) -> None:
    import knowledge.people.login as login

    _officer(kb, "zhang", "丰台区")
    deactivated = _officer(kb, "wang", "丰台区")
    with kb.scope() as session:
        from knowledge.people.accounts import account_by_id

        set_account_active(session, account_by_id(session, deactivated), False, "admin")
    limits = _limits(max_failures=2)
    now = utcnow()
    for _ in range(2):
        login.attempt_login(kb.factory, "zhang", "wrong", "10.0.0.1", limits, now)
    checks = []
    real_verify = login.verify_password
    monkeypatch.setattr(login, "verify_password", lambda stored, given: checks.append(given) or real_verify(
        stored, given))
    results = [login.attempt_login(kb.factory, username, password, "10.0.0.2", limits, now)
               for username, password in (("nobody", "wrong"), ("zhang", PASSWORD), ("wang", PASSWORD),
                                          ("zhang", "wrong"))]
    assert all(result.account_id is None for result in results)
    assert {result.error for result in results} == {login.FAILED_SIGN_IN}
    assert len(checks) == len(results)


def test_item07_an_anonymous_attacker_cannot_keep_an_account_locked(kb) -> None:
    from knowledge.people.login import attempt_login

    _officer(kb, "zhang", "丰台区")
    limits = _limits(max_failures=3, lock=dt.timedelta(seconds=60), address_failures=5,
                     address_backoff=dt.timedelta(seconds=60), address_backoff_max=dt.timedelta(hours=1))
    start = utcnow()
    locked_at_some_point = False
    for second in range(0, 1800, 10):  # the attacker guesses every 10 seconds for half an hour
        now = start + dt.timedelta(seconds=second)
        attempt_login(kb.factory, "zhang", "guess", "203.0.113.9", limits, now)
        if second == 30:
            locked_at_some_point = attempt_login(kb.factory, "zhang", PASSWORD, "198.51.100.1", limits,
                                                 now).account_id is None
    assert locked_at_some_point  # the lock itself works
    later = start + dt.timedelta(seconds=1800)
    assert attempt_login(kb.factory, "zhang", PASSWORD, "198.51.100.1", limits, later).account_id is not None


# --- item 12 --------------------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tracker_url(request, tmp_path) -> Iterator[str]:
    """A tracker store with three conversations, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
        yield _fill(url)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.throwaway("xx_tracker_items") as url:
        yield _fill(url)


def _fill(url: str) -> str:
    engine = create_engine(url, future=True)
    EVENTS.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(EVENTS), [
            {"sender_id": sender, "type_name": "user", "timestamp": 1_700_000_000.0 + number, "intent_name": "greet",
             "data": json.dumps({"text": "你好", "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}})}
            for number, sender in enumerate(("tg-1", "tg-2", "tg-3"))])
    engine.dispose()
    return url


def test_item12_sender_sets_of_any_size(tracker_url) -> None:
    many = {f"tg-9{number:06d}" for number in range(UPSTREAM_VARIABLE_LIMIT + 1000)}
    reader = TrackerReader(tracker_url)
    limit_variables(reader.engine)  # as SQLite's own builds have it (Debian's allows 250,000)
    try:
        assert reader.count_conversations(ConversationFilter(only_senders=many | {"tg-1", "tg-3"})) == 2
        assert [item.sender_id for item in reader.conversations(ConversationFilter(
            except_senders=many | {"tg-1"}, handed_off=False))] == ["tg-3", "tg-2"]
        assert reader.count_conversations(ConversationFilter(handed_off=True, also_handed_off=many | {"tg-2"})) == 1
    finally:
        reader.close()
