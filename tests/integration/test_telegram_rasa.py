"""Telegram through the whole stack: the real PTB Application on the fake Bot API, the real Rasa and action
servers, and the knowledge DB they share; price question, button round trips, and a subscription made in
conversation that brings a push after a price import, and a voice message handed to an officer with its ticket."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from knowledge.db import open_store
from knowledge.files.prices import import_prices
from knowledge.models import HandoffTicket, PriceRecord
from tests.gateway import fake_telegram as tg
from tests.gateway.harness import fake_telegram, start_gateway

__all__ = ["fake_telegram", "start_gateway"]
pytestmark = pytest.mark.integration

# Rasa answers within a few seconds once warm; the first answer loads the model's graph.
RASA_TIMEOUT = 30


@pytest.fixture
def kb_url(rasa_stack) -> str:
    """The knowledge DB of the action server: the gateway and the actions see the same farmers."""
    return rasa_stack["knowledge_db_url"]


def _buttons(call) -> list:
    return [(button["text"], button["callback_data"])
            for row in call.params["reply_markup"]["inline_keyboard"] for button in row]


async def test_price_question_answered_with_price_date_and_source(start_gateway, fake_telegram, rasa_stack) -> None:
    await start_gateway(rasa_stack["rasa_url"], timeout=RASA_TIMEOUT)
    await fake_telegram.enqueue(tg.text(7100001, "玉米多少钱一斤"))
    answer = (await fake_telegram.wait_for("sendMessage", timeout=60))[0].params["text"]
    # The newest seeded corn record: production areas, end of Sept 2024, 1.00–1.05 元/斤 (facts.md §1.2).
    assert "玉米" in answer and "1.00–1.05元/斤" in answer
    assert "2024-09-30" in answer
    assert "来源：农业农村部" in answer
    assert fake_telegram.calls_to("sendChatAction")


async def test_feedback_button_round_trip(start_gateway, fake_telegram, rasa_stack) -> None:
    farmer = 7100002
    await start_gateway(rasa_stack["rasa_url"], timeout=RASA_TIMEOUT)
    await fake_telegram.enqueue(tg.text(farmer, "鸡蛋多少钱一斤"))
    answer = (await fake_telegram.wait_for("sendMessage", timeout=60))[0]
    buttons = dict(_buttons(answer))
    assert buttons["👍 有用"].startswith('/feedback{"rating":"up"')
    await fake_telegram.enqueue(tg.button_press(farmer, buttons["👍 有用"]))
    await fake_telegram.wait_for("sendMessage", 2, timeout=60)
    assert fake_telegram.calls_to("answerCallbackQuery")
    assert fake_telegram.sent_texts(farmer)[-1] == "收到，谢谢您的评价！"


async def test_product_choice_button_round_trip(start_gateway, fake_telegram, rasa_stack) -> None:
    farmer = 7100003
    await start_gateway(rasa_stack["rasa_url"], timeout=RASA_TIMEOUT)
    await fake_telegram.enqueue(tg.text(farmer, "/price"))
    question = (await fake_telegram.wait_for("sendMessage", timeout=60))[0]
    assert question.params["text"] == "您想查哪种农产品的价格？"
    corn = dict(_buttons(question))["玉米"]
    await fake_telegram.enqueue(tg.button_press(farmer, corn))
    await fake_telegram.wait_for("sendMessage", 2, timeout=60)
    assert "1.00–1.05元/斤" in fake_telegram.sent_texts(farmer)[-1]


async def test_subscription_made_in_conversation_is_pushed_after_an_import(
    start_gateway, fake_telegram, rasa_stack, tmp_path: Path
) -> None:
    farmer = 7100004
    gateway = await start_gateway(rasa_stack["rasa_url"], timeout=RASA_TIMEOUT)
    await gateway.scheduler.run_once()
    await fake_telegram.enqueue(tg.text(farmer, "/subscribe 玉米"))
    await fake_telegram.wait_for("sendMessage", timeout=60)
    assert "玉米" in fake_telegram.sent_texts(farmer)[0]

    today = dt.date.today()
    path = tmp_path / "corn.csv"
    # The farmer named no region: a national figure is what they are answered and alerted with (a local
    # market's price is never their national price, issue 15).
    path.write_text(f"品名,市场,地区,平均价,单位,发布日期,来源\n玉米,玉米主产区批发市场,全国,1.21,元/斤,{today},县农业农村局\n",
                    encoding="utf-8")
    store = open_store(rasa_stack["knowledge_db_url"])
    try:
        report = store.run_blocking(lambda session: import_prices(session, path, actor="importer", today=today))
        assert report.ok, report.problems
        assert await gateway.scheduler.run_once() >= 1
        alert = fake_telegram.sent_texts(farmer)[-1]
        assert alert.startswith("【价格提醒】玉米") and "1.21元/斤" in alert and "来源：县农业农村局" in alert
    finally:
        # The stack's DB is shared by the session: other tests expect the seeded newest corn price.
        store.run_blocking(lambda session: session.execute(
            delete(PriceRecord).where(PriceRecord.source == "县农业农村局")))
        store.dispose()


async def test_a_voice_message_handed_to_an_officer_goes_with_the_ticket(
    start_gateway, fake_telegram, rasa_stack
) -> None:
    farmer = 7100005
    await start_gateway(rasa_stack["rasa_url"], timeout=RASA_TIMEOUT)
    voice = {"file_id": "voice-7100005", "file_unique_id": "vu7100005", "duration": 12}
    await fake_telegram.enqueue(tg.message(farmer, voice=voice))
    offer = (await fake_telegram.wait_for("sendMessage", timeout=60))[0]
    assert ("转给信息员", "/request_human") in _buttons(offer)
    await fake_telegram.enqueue(tg.button_press(farmer, "/request_human"))
    await fake_telegram.wait_for("sendMessage", 2, timeout=60)
    assert "（您发来一条语音，12秒）" in fake_telegram.sent_texts(farmer)[-1]
    store = open_store(rasa_stack["knowledge_db_url"])
    try:
        def ticket_media(session) -> list:
            ticket = session.scalars(select(HandoffTicket).where(HandoffTicket.conversation_id == f"tg-{farmer}")).one()
            return [(item.kind, item.telegram_file_id, item.duration_seconds) for item in ticket.attachments]

        assert store.run_blocking(ticket_media) == [("voice", "voice-7100005", 12)]
    finally:
        store.dispose()
