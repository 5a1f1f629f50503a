"""Starting Telegram inside the gateway: Telegram unreachable at start, a rejected token, no token in any
log line (python-telegram-bot puts it in its Bot API URL and in its InvalidToken message), and webhook mode
refused without its secret."""
from __future__ import annotations

import asyncio
import io
import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import telegram_service
from bot.app import SCHEDULER_KEY, TELEGRAM_KEY, create_app
from logs import configure_logging
from settings import Settings
from tests.gateway import fake_telegram as tg
from tests.gateway.harness import handled_so_far

FARMER = 5552001


@pytest.fixture
def quick_start_retries(monkeypatch) -> None:
    """Retry a failed Telegram start after a fraction of a second instead of five seconds."""
    monkeypatch.setattr(telegram_service, "FIRST_START_BACKOFF_SECONDS", 0.2)


@pytest.mark.parametrize("failing", ["getMe", "setMyCommands"])
async def test_telegram_unreachable_at_start_comes_up_later_and_answers(
    start_gateway, fake_rasa, fake_telegram, quick_start_retries, failing: str
) -> None:
    fake_telegram.fail_next(failing, 502, "Bad Gateway")
    gateway = await start_gateway(fake_rasa.url)
    assert len(fake_telegram.calls_to(failing)) >= 2
    assert gateway.scheduler.bot is gateway.app[TELEGRAM_KEY].application.bot
    await fake_telegram.enqueue(tg.text(FARMER, "玉米多少钱"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert sent[0].params["text"] == "玉米：1.00–1.05元/斤"


@pytest.fixture
def gateway_log(kb_url: str, fake_rasa, fake_telegram):
    """Settings for a gateway with the given token, whose log (set up as `python -m bot` does, at DEBUG) is
    written into a string; returns (settings, stream)."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx")}
    handlers = []

    def configure(token: str):
        stream = io.StringIO()
        settings = _settings(kb_url, fake_rasa.url, fake_telegram.base_url, token, log_level="DEBUG")
        handlers.append(configure_logging(settings, stream))
        return settings, stream

    yield configure
    for handler in handlers:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _settings(kb_url: str, rasa_url: str, telegram_url: str, token: str, log_level: str = "INFO") -> Settings:
    return Settings(rasa_url=rasa_url, rasa_timeout_seconds=2, knowledge_db_url=kb_url, telegram_bot_token=token,
                    telegram_api_base_url=f"{telegram_url}/bot", push_interval_seconds=0, log_level=log_level)


async def test_bot_token_and_personal_numbers_never_reach_the_log(gateway_log, fake_telegram) -> None:
    settings, stream = gateway_log(tg.TOKEN)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        await asyncio.wait_for(client.app[TELEGRAM_KEY].ready.wait(), 30)
        await fake_telegram.enqueue(tg.text(FARMER, "我电话13812345678，身份证110101199003071234"))
        await handled_so_far(fake_telegram, FARMER)
    finally:
        await client.close()
    log = stream.getvalue()
    assert "getUpdates" in log, "the DEBUG log of the Bot API calls was not captured"
    secret_part = tg.TOKEN.split(":", 1)[1]
    assert secret_part not in log
    assert "13812345678" not in log and "110101199003071234" not in log


async def test_rejected_token_is_logged_without_the_token_and_not_retried(
    gateway_log, fake_telegram, aiohttp_client, quick_start_retries
) -> None:
    settings, stream = gateway_log("999999:WRONG-TOKEN-VALUE")
    client = await aiohttp_client(create_app(settings))
    # The start loop (which would sleep and try again after any other failure) has ended: no retry can come.
    await asyncio.wait_for(asyncio.shield(client.app[TELEGRAM_KEY]._task), 10)
    assert len(fake_telegram.calls_to("getMe")) == 1
    assert not client.app[TELEGRAM_KEY].ready.is_set()
    # Pushes are not sent through a bot that is not up (they wait, pending, instead of failing).
    assert client.app[SCHEDULER_KEY].bot is None
    log = stream.getvalue()
    assert "rejected" in log and "WRONG-TOKEN-VALUE" not in log
    # The web chat is still served.
    assert (await client.get("/healthz")).status == 200


async def test_webhook_mode_without_a_secret_keeps_telegram_off_and_the_web_chat_on(
    kb_url, fake_rasa, fake_telegram, aiohttp_client, caplog
) -> None:
    settings = Settings(rasa_url=fake_rasa.url, rasa_timeout_seconds=2, knowledge_db_url=kb_url,
                        telegram_bot_token=tg.TOKEN, telegram_api_base_url=f"{fake_telegram.base_url}/bot",
                        telegram_webhook_url="https://bot.example.cn/telegram/hook", telegram_webhook_secret="",
                        push_interval_seconds=0)
    with caplog.at_level(logging.INFO, logger="bot"):
        client = await aiohttp_client(create_app(settings))
    refusals = [record for record in caplog.records if "TELEGRAM_WEBHOOK_SECRET" in record.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.ERROR
    assert "Telegram is off" in refusals[0].getMessage() and "web chat is still served" in refusals[0].getMessage()
    # No Telegram service was made, so nothing can call the Bot API.
    assert TELEGRAM_KEY not in client.app
    # Nobody can post updates: the webhook route does not exist.
    update = {"update_id": 1, **tg.text(FARMER, "玉米多少钱")}
    assert (await client.post("/telegram/hook", json=update)).status == 404
    # The web chat answers.
    await client.get("/")
    answer = await client.post("/api/messages", json={"message": "玉米多少钱一斤"})
    assert (await answer.json())["replies"][0]["text"] == "玉米：1.00–1.05元/斤"
    assert [item["message"] for item in fake_rasa.received] == ["玉米多少钱一斤"]
    assert fake_telegram.calls == [], "no getMe, no setWebhook"
