"""Security item 15 (China's Personal Information Protection Law): farmers' personal data is not kept forever.

Conversations in Rasa's tracker store (written here by Rasa's own SQLTrackerStore, on the same backend as the
knowledge DB), handoff tickets, attachments, pushes and farmers' names older than PERSONAL_DATA_RETENTION_DAYS
are anonymised by a job that runs once per due time however many processes try; intents and timestamps stay
for the statistics. A farmer's own request (or an admin's, for a request made by phone) forgets everything
personal about them at once. Each run and each request is audited without the personal data itself.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import pytest
from rasa.shared.core.events import SlotSet
from sqlalchemy import select

from knowledge.catalog.lookup import find_region
from knowledge.cli import main
from knowledge.conversations.tracker import TrackerReader
from knowledge.db import KnowledgeStore
from knowledge.models import (
    AuditLog,
    ConversationReview,
    DeferredMessage,
    Farmer,
    FarmerAttachment,
    Feedback,
    HandoffTicket,
    MessageCorrection,
    Product,
    Push,
    Subscription,
)
from knowledge.outbox.deferred import keep_message
from knowledge.people.farmers import find_farmer, set_farmer_region
from knowledge.privacy.events import ERASED
from knowledge.privacy.forgetting import (
    erase_pending_conversations,
    forget_farmer,
    mobile_number,
    senders_mentioning_phone,
)
from knowledge.privacy.retention import run_due_retention, run_retention
from knowledge.privacy.tracker_writer import TrackerWriter
from scripts.demo_conversations import action, bot, product, user
from tests.postgres import PostgresServer
from tests.tracker_stores import raw_events, write_conversations

NOW = dt.datetime(2026, 11, 22, 12, 0)
CHINA = dt.timezone(dt.timedelta(hours=8))
OLD = NOW - dt.timedelta(days=200)
RECENT = NOW - dt.timedelta(days=10)
PHONE = "13812345678"
NAME = "张三"


def _ts(moment: dt.datetime) -> float:
    return moment.replace(tzinfo=dt.timezone.utc).timestamp()


def _conversation(sender: str, at: dt.datetime, words: str, chat_id: str = "7001"):
    start = _ts(at)
    return [
        action("action_session_start", start), action("action_listen", start),
        user(words, "ask_price", 0.91, start + 1, [product("玉米", 0, 2)],
             {"channel": "telegram", "chat_id": chat_id, "display_name": NAME}),
        SlotSet("product", "玉米", timestamp=start + 2),
        action("action_price", start + 2),
        bot(f"已把您的问题转给信息员：“{words}”", start + 3),
    ]


@pytest.fixture
def tracker_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty tracker store on the test's backend (Rasa creates its table on the first save)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.throwaway("xx_tracker_item15") as url:
        yield url


@pytest.fixture
def store(kb) -> Iterator[KnowledgeStore]:
    """The test's knowledge DB as a process uses it."""
    yield KnowledgeStore(kb.factory)


def _text_of(rows) -> str:
    """The rows as readable text (Rasa stores its JSON with non-ASCII characters escaped)."""
    return "\n".join(f"{row.sender_id} {json.dumps(json.loads(row.data), ensure_ascii=False)}" for row in rows)


def _audit_text(session) -> str:
    return "\n".join(f"{entry.actor} {entry.before} {entry.after}" for entry in session.scalars(select(AuditLog)))


def test_item15_retention_anonymises_old_conversations_and_keeps_intents_and_times(kb, store, tracker_url) -> None:
    old_words, new_words = f"我叫{NAME}，电话{PHONE}，玉米多少钱", "小麦呢"
    write_conversations(tracker_url, {"tg-7001": _conversation("tg-7001", OLD, old_words)
                                      + _conversation("tg-7001", RECENT, new_words)})
    before = raw_events(tracker_url)
    tracker = TrackerWriter(tracker_url)
    try:
        report = run_retention(store, tracker, days=180, now=NOW)
    finally:
        tracker.close()
    after = raw_events(tracker_url)
    assert report.events == 3  # the old user message, its slot and the bot reply quoting it
    assert [(row.id, row.type_name, row.timestamp, row.intent_name, row.action_name) for row in after] == [
        (row.id, row.type_name, row.timestamp, row.intent_name, row.action_name) for row in before]
    old_rows = [row for row in after if row.timestamp < _ts(NOW - dt.timedelta(days=180))]
    assert PHONE not in _text_of(old_rows) and NAME not in _text_of(old_rows) and "7001\"" not in _text_of(old_rows)
    old_user = json.loads(next(row.data for row in old_rows if row.type_name == "user"))
    assert old_user["text"] == ERASED and old_user["parse_data"]["text"] == ERASED
    assert old_user["parse_data"]["intent"]["name"] == "ask_price"
    assert [entity["value"] for entity in old_user["parse_data"]["entities"]] == [ERASED]
    assert old_user["metadata"] == {"channel": "telegram"}
    assert json.loads(next(row.data for row in old_rows if row.type_name == "slot"))["value"] is None
    recent = [json.loads(row.data) for row in after if row.type_name == "user" and row.timestamp > _ts(RECENT)]
    assert [item["text"] for item in recent] == [new_words]
    with kb.scope() as session:
        entries = session.scalars(select(AuditLog).where(AuditLog.entity == "personal_data")).all()
        assert [(entry.actor, entry.action) for entry in entries] == [("retention", "anonymise")]
        assert json.loads(entries[0].after)["events"] == 3
        assert PHONE not in _audit_text(session)


def test_item15_retention_anonymises_old_tickets_attachments_names_and_pushes(kb, store, tracker_url) -> None:
    with kb.scope() as session:
        old_farmer = Farmer(sender_id="tg-7001", channel="telegram", chat_id="7001", display_name=NAME,
                            created_at=OLD, updated_at=OLD)
        new_farmer = Farmer(sender_id="tg-7002", channel="telegram", chat_id="7002", display_name="李四",
                            created_at=RECENT, updated_at=RECENT)
        closed = HandoffTicket(farmer=old_farmer, question=f"我电话{PHONE}", answer="好的，明天给您打电话",
                               conversation_id="tg-7001", status="delivered", created_at=OLD, updated_at=OLD)
        waiting = HandoffTicket(farmer=old_farmer, question="还没人回我", conversation_id="tg-7001", status="open",
                                created_at=OLD, updated_at=OLD)
        recent = HandoffTicket(farmer=new_farmer, question="补贴啥时候发", answer="六月", conversation_id="tg-7002",
                               status="delivered", created_at=RECENT, updated_at=RECENT)
        session.add_all([old_farmer, new_farmer, closed, waiting, recent])
        session.flush()
        session.add_all([
            FarmerAttachment(farmer=old_farmer, handoff_ticket=closed, kind="photo", telegram_file_id="file-old",
                             file_name="我家.jpg", caption=f"电话{PHONE}", created_at=OLD),
            FarmerAttachment(farmer=new_farmer, kind="voice", telegram_file_id="file-new", created_at=RECENT),
            Push(push_key="handoff:old", kind="handoff_answer", farmer=old_farmer, handoff_ticket=closed,
                 text="【信息员回复】好的，明天给您打电话", status="sent", created_at=OLD),
            Push(push_key="handoff:new", kind="handoff_answer", farmer=new_farmer, handoff_ticket=recent,
                 text="【信息员回复】六月", status="sent", created_at=RECENT),
            Feedback(conversation_id="tg-7001", message_id="a1", rating=-1, comment=f"打{PHONE}", created_at=OLD),
        ])
        ids = {"closed": closed.id, "waiting": waiting.id, "recent": recent.id, "old": old_farmer.id,
               "new": new_farmer.id}
    tracker = TrackerWriter(tracker_url)  # Rasa has written nothing yet: nothing to do there
    try:
        report = run_retention(store, tracker, days=180, now=NOW)
    finally:
        tracker.close()
    assert (report.events, report.tickets, report.attachments, report.pushes, report.farmers) == (0, 1, 1, 1, 1)
    with kb.scope() as session:
        closed, waiting, recent = (session.get(HandoffTicket, ids[name]) for name in ("closed", "waiting", "recent"))
        assert (closed.question, closed.answer) == (ERASED, ERASED)
        assert waiting.question == "还没人回我" and recent.question == "补贴啥时候发"  # open, or not old yet
        attachments = {item.farmer_id: item for item in session.scalars(select(FarmerAttachment))}
        assert (attachments[ids["old"]].telegram_file_id, attachments[ids["old"]].caption,
                attachments[ids["old"]].file_name) == ("", None, None)
        assert attachments[ids["old"]].kind == "photo"  # what was sent stays countable
        assert attachments[ids["new"]].telegram_file_id == "file-new"
        pushes = {push.push_key: push.text for push in session.scalars(select(Push))}
        assert pushes == {"handoff:old": ERASED, "handoff:new": "【信息员回复】六月"}
        assert session.get(Farmer, ids["old"]).display_name is None
        assert session.get(Farmer, ids["old"]).chat_id == "7001"  # still reachable for the service they use
        assert session.get(Farmer, ids["new"]).display_name == "李四"
        assert session.scalars(select(Feedback.comment)).all() == [None]
        assert PHONE not in _audit_text(session)


def test_item15_retention_runs_once_per_due_time_however_many_processes_try(kb, store, tracker_url) -> None:
    tracker = TrackerWriter(tracker_url)
    try:
        first = run_due_retention(store, tracker, days=180, now=NOW, timezone=CHINA, worker="gateway-1")
        again = run_due_retention(store, tracker, days=180, now=NOW + dt.timedelta(hours=1), timezone=CHINA,
                                  worker="gateway-2")
        next_day = run_due_retention(store, tracker, days=180, now=NOW + dt.timedelta(days=1), timezone=CHINA,
                                     worker="gateway-2")
    finally:
        tracker.close()
    assert first is not None and again is None and next_day is not None
    with kb.scope() as session:
        assert len(session.scalars(select(AuditLog).where(AuditLog.entity == "personal_data")).all()) == 2


def _farmer_with_everything(session) -> int:
    farmer = Farmer(sender_id="tg-7001", channel="telegram", chat_id="7001", display_name=NAME)
    session.add(farmer)
    session.flush()
    set_farmer_region(session, farmer, find_region(session, "藁城区"))  # audited with the sender id as actor
    corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
    subscription = Subscription(farmer=farmer, product=corn, rule="any_change")
    ticket = HandoffTicket(farmer=farmer, question=f"我叫{NAME}，电话{PHONE}", conversation_id="tg-7001",
                           status="open", region=farmer.region)
    answered = HandoffTicket(farmer=farmer, question="补贴标准", answer=f"已给{PHONE}回电", status="delivered",
                             conversation_id="tg-7001")
    session.add_all([subscription, ticket, answered])
    session.flush()
    session.add_all([
        Push(push_key="alert:1", kind="price_alert", farmer=farmer, subscription=subscription, text="玉米涨了",
             status="pending"),
        Push(push_key="handoff:2", kind="handoff_answer", farmer=farmer, handoff_ticket=answered,
             text=f"【信息员回复】已给{PHONE}回电", status="sent"),
        FarmerAttachment(farmer=farmer, handoff_ticket=ticket, kind="voice", telegram_file_id="file-7001",
                         caption=f"{NAME}的语音"),
        Feedback(conversation_id="tg-7001", message_id="a1", rating=-1, comment=f"找{NAME}"),
        ConversationReview(conversation_id="tg-7001", reviewed=True, flagged=False, tags="", note=f"{NAME}留了电话"),
        MessageCorrection(conversation_id="tg-7001", event_id=3, text=f"我叫{NAME}", intent="greet",
                          annotated_text=f"我叫{NAME}"),
    ])
    return farmer.id


def test_item15_forgetting_a_farmer_removes_their_personal_data_everywhere(kb, store, tracker_url) -> None:
    write_conversations(tracker_url, {"tg-7001": _conversation("tg-7001", RECENT, f"我叫{NAME}，电话{PHONE}"),
                                      "tg-8001": _conversation("tg-8001", RECENT, "玉米多少钱", chat_id="8001")})
    with kb.scope() as session:
        farmer_id = _farmer_with_everything(session)
        # A message kept to answer later (the gateway was over capacity) holds the farmer's words too.
        keep_message(session, "tg-7001", f"回电{PHONE}", {"channel": "telegram"})
    with kb.scope() as session:
        forgotten = forget_farmer(session, "tg-7001", actor="farmer", via="telegram")
    assert forgotten.found and forgotten.new_sender_id.startswith("forgotten-")
    tracker = TrackerWriter(tracker_url)
    try:
        assert erase_pending_conversations(store, tracker) == 1
        assert erase_pending_conversations(store, tracker) == 0
    finally:
        tracker.close()

    events = raw_events(tracker_url)
    assert {row.sender_id for row in events} == {forgotten.new_sender_id, "tg-8001"}
    mine = [row for row in events if row.sender_id == forgotten.new_sender_id]
    assert PHONE not in _text_of(mine) and NAME not in _text_of(mine)
    assert [row.intent_name for row in mine if row.type_name == "user"] == ["ask_price"]
    assert "玉米多少钱" in _text_of(row for row in events if row.sender_id == "tg-8001")
    with kb.scope() as session:
        assert find_farmer(session, "tg-7001") is None
        farmer = session.get(Farmer, farmer_id)
        assert farmer.sender_id == forgotten.new_sender_id
        assert (farmer.chat_id, farmer.display_name, farmer.region_id) == (None, None, None)
        assert session.scalars(select(Subscription).where(Subscription.farmer_id == farmer_id)).all() == []
        assert [(push.push_key, push.text) for push in session.scalars(select(Push))] == [("handoff:2", ERASED)]
        tickets = session.scalars(select(HandoffTicket).where(HandoffTicket.farmer_id == farmer_id)).all()
        assert {(ticket.question, ticket.answer or ERASED, ticket.status) for ticket in tickets} == {
            (ERASED, ERASED, "closed"), (ERASED, ERASED, "delivered")}
        assert {ticket.conversation_id for ticket in tickets} == {forgotten.new_sender_id}
        attachment = session.scalars(select(FarmerAttachment)).one()
        assert (attachment.telegram_file_id, attachment.caption) == ("", None)
        assert session.scalars(select(Feedback.comment)).all() == [None]
        assert session.scalars(select(MessageCorrection)).all() == []
        assert session.scalars(select(DeferredMessage)).all() == []
        assert session.scalars(select(ConversationReview.note)).all() == [None]
        everything = _audit_text(session)
        assert "tg-7001" not in everything and PHONE not in everything and NAME not in everything
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "forget")).one()
        assert (entry.actor, entry.entity, entry.entity_id) == ("farmer", "farmer", farmer_id)
        assert json.loads(entry.after)["via"] == "telegram"


def test_item15_forgetting_someone_the_bot_never_knew_is_audited_and_harmless(kb) -> None:
    with kb.scope() as session:
        forgotten = forget_farmer(session, "web-" + "0" * 32, actor="admin", via="console")
    assert not forgotten.found
    with kb.scope() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "forget")).one()
        assert entry.actor == "admin" and "web-" not in (entry.after or "")


def test_item15_a_request_by_phone_finds_the_farmers_who_gave_that_number(kb, tracker_url) -> None:
    write_conversations(tracker_url, {"tg-7001": _conversation("tg-7001", RECENT, f"电话{PHONE}"),
                                      "tg-8001": _conversation("tg-8001", RECENT, "电话13900000000", chat_id="8001")})
    with kb.scope() as session:
        web = Farmer(sender_id="web-" + "a" * 32, channel="webchat")
        session.add(web)
        session.add(HandoffTicket(farmer=web, question=f"回电{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}？不，{PHONE}",
                                  conversation_id=web.sender_id))
    assert mobile_number("+86 138-1234-5678") == PHONE
    assert mobile_number("12345") is None and mobile_number("tg-7001") is None
    reader = TrackerReader(tracker_url)
    try:
        with kb.scope() as session:
            assert senders_mentioning_phone(session, reader, PHONE) == ["tg-7001", "web-" + "a" * 32]
    finally:
        reader.close()


def test_item15_retention_command_anonymises_now(kb, tracker_url, capsys) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    write_conversations(tracker_url, {"tg-7001": _conversation("tg-7001", now - dt.timedelta(days=40), PHONE)})
    assert main(["--db", kb.url, "retention", "--tracker-db", tracker_url, "--days", "60"]) == 0
    assert PHONE in _text_of(raw_events(tracker_url))
    assert main(["--db", kb.url, "retention", "--tracker-db", tracker_url, "--days", "30"]) == 0
    assert PHONE not in _text_of(raw_events(tracker_url))
    assert "匿名化" in capsys.readouterr().out
