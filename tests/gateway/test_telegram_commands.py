"""Farmers' Telegram commands through the real python-telegram-bot Application, the fake Bot API and a fake Rasa:
what each command sends to Rasa, or answers by itself."""
from __future__ import annotations

import pytest

from bot.telegram_chat import HELP, STICKER_REPLY
from tests.gateway import fake_telegram as tg
from tests.gateway.harness import handled_so_far

FARMER = 5553001
GROUP = -100300400


async def test_help_answers_with_the_command_list_without_asking_rasa(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "/help"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert sent[0].params["text"] == HELP
    assert str(sent[0].params["chat_id"]) == str(FARMER)
    for command in ("/price", "/subscribe", "/unsubscribe", "/human", "/start"):
        assert command in HELP
    await handled_so_far(fake_telegram, FARMER)
    assert fake_telegram.sent_texts(FARMER) == [HELP, STICKER_REPLY]
    assert fake_rasa.received == []


async def test_help_addressed_to_the_bot_in_a_group_is_answered_in_the_group(
    start_gateway, fake_rasa, fake_telegram
) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, f"/help@{tg.BOT_USERNAME}", chat_id=GROUP, chat_type="group"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert sent[0].params["text"] == HELP and str(sent[0].params["chat_id"]) == str(GROUP)
    assert fake_rasa.received == []


async def test_price_command_sends_an_intent_with_the_product(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "/price 玉米"))
    await fake_telegram.wait_for("sendMessage")
    assert fake_rasa.received[0]["message"] == '/ask_price{"product": "玉米"}'


@pytest.mark.parametrize(("command", "payload"), [
    ("/unsubscribe", "/unsubscribe_price_alert"),
    ("/unsubscribe 玉米", '/unsubscribe_price_alert{"product": "玉米"}'),
])
async def test_unsubscribe_sends_the_intent_as_the_farmer_and_the_reply_comes_back(
    start_gateway, fake_rasa, fake_telegram, command: str, payload: str
) -> None:
    fake_rasa.reply = [{"text": "已取消您的价格提醒。"}]
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, command))
    sent = await fake_telegram.wait_for("sendMessage")
    assert [item["message"] for item in fake_rasa.received] == [payload]
    assert fake_rasa.received[0]["sender"] == f"tg-{FARMER}"
    assert fake_rasa.received[0]["metadata"]["channel"] == "telegram"
    assert sent[0].params["text"] == "已取消您的价格提醒。"
    assert str(sent[0].params["chat_id"]) == str(FARMER)


async def test_human_hands_over_through_rasa_and_the_ticket_reply_keeps_its_buttons(
    start_gateway, fake_rasa, fake_telegram
) -> None:
    fake_rasa.reply = [{"text": "已转给信息员，工单号 #12。", "buttons": [{"title": "👍", "payload": "/affirm"}]}]
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "/human"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert [item["message"] for item in fake_rasa.received] == ["/request_human"]
    assert fake_rasa.received[0]["sender"] == f"tg-{FARMER}"
    assert fake_rasa.received[0]["metadata"]["display_name"] == "老王"
    assert sent[0].params["text"] == "已转给信息员，工单号 #12。"
    keyboard = sent[0].params["reply_markup"]["inline_keyboard"]
    assert [button["callback_data"] for row in keyboard for button in row] == ["/affirm"]


async def test_human_in_a_group_is_the_members_own_handoff(start_gateway, fake_rasa, fake_telegram) -> None:
    fake_rasa.reply = [{"text": "已转给信息员。"}]
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, f"/human@{tg.BOT_USERNAME}", chat_id=GROUP, chat_type="group"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert fake_rasa.received[0]["message"] == "/request_human"
    assert fake_rasa.received[0]["sender"] == f"tg-{FARMER}"
    assert str(sent[0].params["chat_id"]) == str(GROUP)
