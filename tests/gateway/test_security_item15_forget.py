"""Security item 15: a farmer deletes their own records (“删除我的记录”): /forget on Telegram, confirmed with a
button, and a link in the web chat; the gateway's scheduler anonymises what is older than the retention period
once a day and the conversations an admin was asked to forget. Welcome texts say what is kept and how long."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.retention_scheduler import RetentionScheduler
from bot.telegram_chat import HELP
from bot.telegram_service import COMMANDS
from bot.webchat import CHAT_COOKIE
from knowledge.catalog.lookup import find_region
from knowledge.db import KnowledgeStore
from knowledge.handoff.attachments import SentMedia, remember_attachment
from knowledge.handoff.tickets import hand_over
from knowledge.models import Farmer, FarmerAttachment, HandoffTicket, Product, Subscription
from knowledge.people.farmers import find_farmer, remember_farmer, set_farmer_region
from knowledge.privacy.forgetting import forget_farmer
from knowledge.privacy.tracker_writer import TrackerWriter
from scripts.demo_conversations import action, bot, user
from settings import Settings
from tests.gateway import fake_telegram as tg
from tests.tracker_stores import raw_events, save_conversations

FARMER = 5553151
SOMEONE_ELSE = 5553152
PHONE = "13812345678"
NOW = dt.datetime(2026, 11, 22, 12, 0)
CHINA = dt.timezone(dt.timedelta(hours=8))


def _conversation(at: float, words: str):
    return [action("action_session_start", at), user(words, "request_human", 0.9, at + 1,
                                                     metadata={"channel": "telegram", "display_name": "老王"}),
            bot(f"已把您的问题转给信息员：“{words}”", at + 2)]


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    """The gateway's tracker store (Rasa's), a SQLite file of the test's own."""
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def _farmer_with_a_ticket(store: KnowledgeStore, sender: str) -> int:
    def work(session) -> int:
        farmer = remember_farmer(session, sender, "telegram", str(FARMER), "老王")
        set_farmer_region(session, farmer, find_region(session, "藁城区"))
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        session.add(Subscription(farmer=farmer, product=corn, rule="any_change"))
        remember_attachment(session, farmer.id, SentMedia("voice", "voice-file-1", duration_seconds=5))
        hand_over(session, farmer, f"我电话{PHONE}", sender, "（无）")
        return farmer.id

    return store.run_blocking(work)


def _buttons(call) -> dict:
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in keyboard for button in row}


def test_item15_forget_is_a_listed_command() -> None:
    assert "forget" in [command.command for command in COMMANDS]
    assert "/forget" in HELP


async def test_item15_welcome_says_what_is_kept_and_for_how_long(start_gateway, fake_rasa, fake_telegram,
                                                                  tracker_url) -> None:
    await start_gateway(fake_rasa.url, tracker_url=tracker_url)
    await fake_telegram.enqueue(tg.text(FARMER, "/start"))
    welcome = (await fake_telegram.wait_for("sendMessage"))[0].params["text"]
    assert "聊天记录" in welcome and "180天" in welcome and "/forget" in welcome


async def test_item15_forget_asks_first_and_cancel_keeps_everything(start_gateway, fake_rasa, fake_telegram, store,
                                                                     tracker_url) -> None:
    farmer_id = _farmer_with_a_ticket(store, f"tg-{FARMER}")
    await start_gateway(fake_rasa.url, tracker_url=tracker_url)
    await fake_telegram.enqueue(tg.text(FARMER, "删除我的记录"))  # typed as the greeting says, or /forget
    question = (await fake_telegram.wait_for("sendMessage"))[0]
    assert "删除" in question.params["text"]
    buttons = _buttons(question)
    assert len(buttons) == 2
    cancel = next(data for title, data in buttons.items() if "取消" in title)
    await fake_telegram.enqueue(tg.button_press(FARMER, cancel))
    await fake_telegram.wait_for("sendMessage", 2)
    assert "没有删除" in fake_telegram.sent_texts(FARMER)[-1]
    assert fake_rasa.received == []
    assert store.run_blocking(lambda session: find_farmer(session, f"tg-{FARMER}").id) == farmer_id


async def test_item15_forget_confirmed_removes_the_farmers_records(start_gateway, fake_rasa, fake_telegram, store,
                                                                    tracker_url) -> None:
    sender = f"tg-{FARMER}"
    farmer_id = _farmer_with_a_ticket(store, sender)
    await save_conversations(tracker_url, {sender: _conversation(NOW.timestamp(), f"我电话{PHONE}"),
                                           "tg-9": _conversation(NOW.timestamp(), "玉米多少钱")})
    await start_gateway(fake_rasa.url, tracker_url=tracker_url)
    await fake_telegram.enqueue(tg.text(FARMER, "/forget"))
    confirm = next(data for title, data in _buttons((await fake_telegram.wait_for("sendMessage"))[0]).items()
                   if "确认" in title)
    # Someone else tapping the button (in a group it is everyone's to tap) forgets nobody.
    await fake_telegram.enqueue(tg.button_press(SOMEONE_ELSE, confirm, chat_id=FARMER))
    await fake_telegram.wait_for("answerCallbackQuery")
    assert store.run_blocking(lambda session: find_farmer(session, sender)) is not None
    await fake_telegram.enqueue(tg.button_press(FARMER, confirm))
    await fake_telegram.wait_until(lambda: any("已删除" in text for text in fake_telegram.sent_texts(FARMER)),
                                   "the confirmation that the records are deleted")

    def check(session) -> None:
        assert find_farmer(session, sender) is None
        farmer = session.get(Farmer, farmer_id)
        assert farmer.display_name is None and farmer.chat_id is None
        assert session.scalars(select(Subscription).where(Subscription.farmer_id == farmer_id)).all() == []
        assert PHONE not in session.scalars(select(HandoffTicket.question)).one()
        assert session.scalars(select(FarmerAttachment.telegram_file_id)).one() == ""

    store.run_blocking(check)
    events = raw_events(tracker_url)
    assert sender not in {row.sender_id for row in events} and "tg-9" in {row.sender_id for row in events}
    assert PHONE not in " ".join(row.data for row in events)
    assert fake_rasa.received == []


async def test_item15_webchat_page_offers_forgetting_and_says_how_long(aiohttp_client, fake_rasa, kb_url,
                                                                        tracker_url) -> None:
    settings = Settings(rasa_url=fake_rasa.url, knowledge_db_url=kb_url, tracker_db_url=tracker_url,
                        push_interval_seconds=0)
    client = await aiohttp_client(create_app(settings))
    page = await (await client.get("/")).text()
    assert "删除我的记录" in page and "聊天记录" in page and "180天" in page
    assert "/api/forget" in await (await client.get("/static/webchat.js")).text()


async def test_item15_webchat_forget_removes_the_records_and_gives_a_new_identity(aiohttp_client, fake_rasa, kb_url,
                                                                                   tracker_url, store) -> None:
    settings = Settings(rasa_url=fake_rasa.url, knowledge_db_url=kb_url, tracker_db_url=tracker_url,
                        push_interval_seconds=0)
    client = await aiohttp_client(create_app(settings))
    await client.get("/")
    await client.post("/api/messages", json={"message": f"我电话{PHONE}"})
    sender = fake_rasa.received[0]["sender"]
    await save_conversations(tracker_url, {sender: _conversation(NOW.timestamp(), f"我电话{PHONE}")})
    assert store.run_blocking(lambda session: find_farmer(session, sender)) is not None

    assert (await client.post("/api/forget", data="confirm")).status == 415  # a form another site could post
    assert (await client.post("/api/forget", json={})).status == 400  # not confirmed
    response = await client.post("/api/forget", json={"confirm": True})
    assert response.status == 200 and "已删除" in (await response.json())["message"]
    assert CHAT_COOKIE in response.cookies  # a new secret: nothing links the browser to what was forgotten
    assert store.run_blocking(lambda session: find_farmer(session, sender)) is None
    assert sender not in {row.sender_id for row in raw_events(tracker_url)}
    await client.post("/api/messages", json={"message": "玉米多少钱"})
    assert fake_rasa.received[-1]["sender"] not in (sender, "")


async def test_item15_the_gateway_scheduler_runs_retention_daily_and_erases_requested_conversations(
    store, tracker_url
) -> None:
    old = (NOW - dt.timedelta(days=200)).replace(tzinfo=dt.timezone.utc).timestamp()
    await save_conversations(tracker_url, {"tg-7001": _conversation(old, f"我电话{PHONE}"),
                                           "tg-8001": _conversation(NOW.timestamp(), "帮我删掉")})
    # An admin's forget (the console never writes Rasa's store): the gateway's scheduler does that part.
    store.run_blocking(lambda session: forget_farmer(session, "tg-8001", actor="admin", via="console"))
    tracker = TrackerWriter(tracker_url)
    scheduler = RetentionScheduler(store, tracker, retention_days=180, timezone=CHINA, clock=lambda: NOW)
    try:
        assert await scheduler.run_once() is not None
        assert await scheduler.run_once() is None  # done for today
    finally:
        tracker.close()
    events = raw_events(tracker_url)
    assert "tg-8001" not in {row.sender_id for row in events}
    assert PHONE not in " ".join(row.data for row in events)
