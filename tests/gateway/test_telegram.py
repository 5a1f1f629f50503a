"""The real python-telegram-bot Application in the gateway, against the fake Bot API server and a fake Rasa.

These cases are about Telegram handling (rendering, limits, retries, media, groups, officers), not
about language understanding, so a small fake of Rasa's REST channel answers them; the price
question and a button round trip through the real Rasa stack are in tests/integration/test_telegram_rasa.py.
"""
from __future__ import annotations

import logging
import time

from bot.app import DEFERRED_KEY, DRAIN_KEY
from bot.conversation import APOLOGY, DEFERRED, MAX_MESSAGE_CHARS, TOO_FAST, TOO_LONG
from bot.telegram_chat import DOCUMENT_REPLY, PHOTO_REPLY, STICKER_REPLY, VOICE_REPLY
from bot.telegram_service import COMMANDS
from bot.webchat import CONVERSATION_KEY
from knowledge.outbox.deferred import deferred_counts
from settings import Settings
from tests.gateway import fake_telegram as tg
from tests.gateway.harness import handled_so_far

FARMER = 5551001


async def test_start_registers_commands_and_polls(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    commands = fake_telegram.calls_to("setMyCommands")[0].params["commands"]
    assert [command["command"] for command in commands] == [command.command for command in COMMANDS]
    assert fake_telegram.calls_to("getMe")


async def test_text_goes_to_rasa_as_the_user_and_the_reply_comes_back(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱一斤"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert sent[0].params["text"] == "玉米：1.00–1.05元/斤"
    assert str(sent[0].params["chat_id"]) == str(FARMER)
    assert fake_rasa.received[0]["sender"] == f"tg-{FARMER}"
    assert fake_rasa.received[0]["message"] == "玉米多少钱一斤"
    metadata = fake_rasa.received[0]["metadata"]
    assert metadata["channel"] == "telegram" and metadata["chat_id"] == str(FARMER)
    assert metadata["display_name"] == "老王"
    assert fake_telegram.calls_to("sendChatAction")[0].params["action"] == "typing"


async def test_button_round_trip_through_a_short_key(start_gateway, fake_rasa, fake_telegram) -> None:
    long_payload = '/inform{"product":"大白菜","region":"石家庄市藁城区","market":"石家庄桥西蔬菜批发市场"}'
    assert len(long_payload.encode("utf-8")) > 64
    fake_rasa.reply = [{"text": "您想查哪里的？", "buttons": [
        {"title": "藁城大白菜", "payload": long_payload}, {"title": "小麦", "payload": '/inform{"product":"小麦"}'},
    ]}]
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "白菜"))
    question = (await fake_telegram.wait_for("sendMessage"))[0]
    keyboard = question.params["reply_markup"]["inline_keyboard"]
    datas = [button["callback_data"] for row in keyboard for button in row]
    assert all(len(data.encode("utf-8")) <= 64 for data in datas)
    assert datas[0].startswith("k:") and datas[1] == '/inform{"product":"小麦"}'

    fake_rasa.reply = [{"text": "藁城大白菜：0.58元/斤"}]
    await fake_telegram.enqueue(tg.button_press(FARMER, datas[0]))
    await fake_telegram.wait_for("sendMessage", 2)
    assert fake_telegram.calls_to("answerCallbackQuery")
    assert fake_rasa.received[-1]["message"] == long_payload
    assert fake_rasa.received[-1]["sender"] == f"tg-{FARMER}"
    assert fake_telegram.sent_texts()[-1] == "藁城大白菜：0.58元/斤"


async def test_unknown_short_key_is_answered_without_calling_rasa(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.button_press(FARMER, "k:0000000000000000"))
    answered = await fake_telegram.wait_for("answerCallbackQuery")
    assert "过期" in answered[0].params["text"]
    assert fake_rasa.received == []


async def test_voice_message_asks_to_type_and_offers_an_officer(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    voice = {"file_id": "v1", "file_unique_id": "u1", "duration": 3}
    await fake_telegram.enqueue(tg.message(FARMER, voice=voice))
    sent = (await fake_telegram.wait_for("sendMessage"))[0]
    assert sent.params["text"] == VOICE_REPLY
    buttons = [b["callback_data"] for row in sent.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "/request_human" in buttons
    assert fake_rasa.received == []
    # Tapping "转给信息员" hands over to Rasa's handoff.
    await fake_telegram.enqueue(tg.button_press(FARMER, "/request_human"))
    await fake_telegram.wait_for("sendMessage", 2)
    assert fake_rasa.received[-1]["message"] == "/request_human"


async def test_photo_sticker_and_document_get_a_clear_reply(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
    document = {"file_id": "d1", "file_unique_id": "du1", "file_name": "价格.xlsx"}
    for content in ({"photo": photo}, {"sticker": tg.STICKER}, {"document": document}):
        await fake_telegram.enqueue(tg.message(FARMER, **content))
    sent = await fake_telegram.wait_for("sendMessage", 3)
    assert [call.params["text"] for call in sent] == [PHOTO_REPLY, STICKER_REPLY, DOCUMENT_REPLY]
    photo_buttons = [b["callback_data"] for row in sent[0].params["reply_markup"]["inline_keyboard"] for b in row]
    assert "/request_human" in photo_buttons, "a photo is offered to an officer"
    assert fake_rasa.received == []


async def test_rasa_down_keeps_the_message_and_answers_it_when_rasa_returns(
    start_gateway, fake_telegram, aiohttp_server, unused_tcp_port, store, caplog
) -> None:
    from tests.gateway.harness import FakeRasa

    gateway = await start_gateway(f"http://127.0.0.1:{unused_tcp_port}", timeout=4)
    gateway.app[DEFERRED_KEY].retry_seconds = 0
    with caplog.at_level(logging.INFO, logger="bot.conversation"):
        await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱，回电13812345678"))
        await fake_telegram.wait_for("sendMessage")
    # Told the truth: the message is kept (a row, written before this was said), and the answer will come.
    assert fake_telegram.sent_texts() == [DEFERRED]
    with store.session() as session:
        kept = deferred_counts(session)
    # Waiting, or already being tried again against the Rasa that is still down.
    assert sum(kept.values()) == 1 and set(kept) <= {"waiting", "answering"}
    assert "13812345678" not in caplog.text
    # Rasa comes back on the same address: the kept message is answered and pushed, with no restart of the gateway.
    rasa = FakeRasa()
    await aiohttp_server(rasa.app(), port=unused_tcp_port)
    await gateway.app[DRAIN_KEY].drain()
    assert [message["message"] for message in rasa.received] == ["玉米多少钱，回电13812345678"]
    assert await gateway.scheduler.run_once() == 1
    late = fake_telegram.sent_texts()[-1]
    assert late.startswith("您刚才问：“玉米多少钱，回电13812345678”") and late.endswith("玉米：1.00–1.05元/斤")
    with store.session() as session:
        assert deferred_counts(session) == {"answered": 1}
    # The next message is answered at once again.
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
    await fake_telegram.wait_for("sendMessage", 3)
    assert fake_telegram.sent_texts()[-1] == "玉米：1.00–1.05元/斤"


async def test_slow_rasa_gets_the_deferral_within_five_seconds_and_the_answer_later(
    start_gateway, fake_rasa, fake_telegram, monkeypatch
) -> None:
    monkeypatch.delenv("RASA_TIMEOUT_SECONDS", raising=False)
    fake_rasa.delay = 6
    gateway = await start_gateway(fake_rasa.url, timeout=Settings().rasa_timeout_seconds)
    started = time.monotonic()
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
    await fake_telegram.wait_for("sendMessage")
    elapsed = time.monotonic() - started
    assert fake_telegram.sent_texts() == [DEFERRED]
    assert elapsed < 5.0, f"deferral after {elapsed:.1f}s"
    # Rasa keeps working on it, and the gateway keeps waiting for it: the answer is pushed, Rasa asked once.
    await gateway.app[CONVERSATION_KEY].finish_late()
    assert await gateway.scheduler.run_once() == 1
    assert fake_telegram.sent_texts()[-1] == "您刚才问：“玉米多少钱”\n玉米：1.00–1.05元/斤"
    assert len(fake_rasa.received) == 1


async def test_action_server_down_gets_the_apology_and_the_message_is_logged(
    start_gateway, fake_rasa, fake_telegram, caplog
) -> None:
    # What Rasa's REST channel answers when a custom action cannot reach the action server.
    fake_rasa.reply = []
    await start_gateway(fake_rasa.url)
    with caplog.at_level(logging.ERROR, logger="bot.conversation"):
        await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
        await fake_telegram.wait_for("sendMessage")
    assert fake_telegram.sent_texts() == [APOLOGY]
    assert any("not answered" in record.getMessage() and "玉米多少钱" in record.getMessage()
               for record in caplog.records)
    # The action server back: answered again, nothing restarted.
    fake_rasa.reply = [{"text": "玉米：1.00–1.05元/斤"}]
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
    await fake_telegram.wait_for("sendMessage", 2)
    assert fake_telegram.sent_texts()[-1] == "玉米：1.00–1.05元/斤"


async def test_long_reply_is_split_at_4096_on_line_ends(start_gateway, fake_rasa, fake_telegram) -> None:
    lines = [f"第{number}行：" + "玉米价格说明" * 20 for number in range(60)]
    long_text = "\n".join(lines)
    assert len(long_text) > 4096
    fake_rasa.reply = [{"text": long_text, "buttons": [{"title": "👍 有用", "payload": "/feedback"}]}]
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "玉米"))
    await handled_so_far(fake_telegram, FARMER)
    parts = fake_telegram.calls_to("sendMessage")[:-1]  # the last answers the sticker
    assert len(parts) == 2
    assert all(len(part.params["text"]) <= 4096 for part in parts)
    assert "\n".join(part.params["text"] for part in parts) == long_text
    assert all(part.params["text"].split("\n")[0] in lines for part in parts)
    assert "reply_markup" not in parts[0].params and "reply_markup" in parts[1].params


async def test_rate_limit_and_length_cap(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "玉" * (MAX_MESSAGE_CHARS + 1)))
    await fake_telegram.wait_for("sendMessage")
    assert fake_telegram.sent_texts() == [TOO_LONG]
    for number in range(21):
        await fake_telegram.enqueue(tg.text(FARMER + 1, f"玉米{number}"))
    await fake_telegram.wait_for("sendMessage", 22)
    assert fake_telegram.sent_texts(FARMER + 1).count(TOO_FAST) == 1
    assert len(fake_rasa.received) == 20


async def test_flood_control_retry_after_is_honoured(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
    calls = await fake_telegram.wait_for("sendMessage", 2)
    assert [call.params["text"] for call in calls] == ["玉米：1.00–1.05元/斤"] * 2


async def test_server_errors_are_retried(start_gateway, fake_rasa, fake_telegram) -> None:
    await start_gateway(fake_rasa.url)
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway")
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
    calls = await fake_telegram.wait_for("sendMessage", 2)
    assert calls[-1].params["text"] == "玉米：1.00–1.05元/斤"


async def test_group_messages_are_answered_only_when_addressed_each_member_on_their_own(
    start_gateway, fake_rasa, fake_telegram
) -> None:
    group = -100200300
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER, "大家好", chat_id=group, chat_type="group"))
    await fake_telegram.enqueue(tg.mention(FARMER, "玉米多少钱", group))
    await fake_telegram.enqueue(tg.mention(FARMER + 7, "小麦呢", group))
    await handled_so_far(fake_telegram, FARMER)
    await handled_so_far(fake_telegram, FARMER + 7)
    # Two members are answered concurrently, so in either order.
    assert sorted((item["sender"], item["message"]) for item in fake_rasa.received) == \
        sorted([(f"tg-{FARMER}", "玉米多少钱"), (f"tg-{FARMER + 7}", "小麦呢")])
    # Answered in the group, never in private (where only the stickers were answered).
    assert len(fake_telegram.sent_texts(group)) == 2
    assert fake_telegram.sent_texts(FARMER) == fake_telegram.sent_texts(FARMER + 7) == [STICKER_REPLY]
    # A reply to one of the bot's messages is addressed to it too.
    bot_message = {"message_id": 1, "date": 0, "chat": tg.chat(group, "group"),
                   "from": {"id": tg.BOT_ID, "is_bot": True, "first_name": "乡信"}, "text": "玉米：…"}
    await fake_telegram.enqueue(tg.text(FARMER, "那鸡蛋呢", chat_id=group, chat_type="group",
                                        reply_to_message=bot_message))
    await fake_telegram.wait_until(lambda: len(fake_telegram.sent_texts(group)) == 3, "third answer in the group")
    assert fake_rasa.received[-1]["message"] == "那鸡蛋呢"


async def test_webhook_mode_checks_the_secret_token(start_gateway, fake_rasa, fake_telegram) -> None:
    gateway = await start_gateway(fake_rasa.url, webhook_url="https://bot.example.cn/telegram/hook", secret="s3cr3t")
    webhook = fake_telegram.calls_to("setWebhook")[0].params
    assert webhook["url"] == "https://bot.example.cn/telegram/hook" and webhook["secret_token"] == "s3cr3t"
    assert fake_telegram.calls_to("getUpdates") == []
    update = {"update_id": 99, **tg.text(FARMER, "玉米多少钱")}
    refused = await gateway.client.post("/telegram/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"})
    assert refused.status == 403
    accepted = await gateway.client.post("/telegram/hook", json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"})
    assert accepted.status == 200
    await fake_telegram.wait_for("sendMessage")
    assert len(fake_rasa.received) == 1
