"""Gateway test harness: a fake Rasa REST channel, a fake Telegram Bot API, and the real gateway app (with the
real python-telegram-bot Application) started against them. Fixtures for tests/gateway and tests/integration;
both bring their own `kb_url` (the knowledge DB the gateway uses)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import SCHEDULER_KEY, TELEGRAM_KEY, create_app
from bot.push_scheduler import PushScheduler
from bot.telegram_chat import STICKER_REPLY
from settings import Settings
from tests.gateway.fake_telegram import TOKEN, FakeTelegram, sticker


class FakeRasa:
    """Records what the gateway posts (and the secret it sends) and answers like Rasa's gateway channel."""

    def __init__(self) -> None:
        self.received: List[Dict[str, Any]] = []
        self.secrets: List[str] = []
        self.reply: List[Dict[str, Any]] = [{"recipient_id": "x", "text": "玉米：1.00–1.05元/斤"}]
        self.delay = 0.0
        self.status = 200
        self.url = ""

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /webhooks/gateway/webhook."""
        self.received.append(await request.json())
        self.secrets.append(request.headers.get("X-Gateway-Secret", ""))
        await asyncio.sleep(self.delay)
        return web.json_response(self.reply, status=self.status)

    def app(self) -> web.Application:
        """The fake's aiohttp app."""
        app = web.Application()
        app.router.add_post("/webhooks/gateway/webhook", self.webhook)
        return app


@pytest.fixture
async def fake_rasa(serve) -> FakeRasa:
    """A fake Rasa REST channel on a free local port."""
    fake = FakeRasa()
    fake.url = await serve(fake.app())
    return fake


@pytest.fixture
async def fake_telegram(serve) -> FakeTelegram:
    """A fake Bot API server on a free local port."""
    fake = FakeTelegram()
    fake.base_url = await serve(fake.app())
    return fake


@dataclass
class Gateway:
    """A running gateway: its test client, app and push scheduler."""

    client: Any
    app: web.Application

    @property
    def scheduler(self) -> PushScheduler:
        """The gateway's push scheduler (its loop is off in tests; call run_once)."""
        return self.app[SCHEDULER_KEY]


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def start_gateway(fake_telegram: FakeTelegram, kb_url: str) -> AsyncIterator[GatewayFactory]:
    """Start the gateway with Telegram on the fake Bot API; waits until PTB polls (or the webhook is set).

    The gateways are closed before the fake servers (which this fixture depends on) go away.
    """
    clients: List[TestClient] = []

    async def start(rasa_url: str, timeout: int = 10, webhook_url: str = "", secret: str = "",
                    db_url: Optional[str] = None, tracker_url: Optional[str] = None) -> Gateway:
        tracker = {"tracker_db_url": tracker_url} if tracker_url else {}
        settings = Settings(
            rasa_url=rasa_url, rasa_timeout_seconds=timeout, knowledge_db_url=db_url or kb_url, **tracker,
            telegram_bot_token=TOKEN, telegram_api_base_url=f"{fake_telegram.base_url}/bot",
            telegram_webhook_url=webhook_url, telegram_webhook_secret=secret, push_interval_seconds=0,
        )
        app = create_app(settings)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        await asyncio.wait_for(app[TELEGRAM_KEY].ready.wait(), 30)
        return Gateway(client, app)

    yield start
    for client in clients:
        await client.close()


async def handled_so_far(fake_telegram: FakeTelegram, user_id: int) -> None:
    """Wait until the gateway is done with every update `user_id` has sent so far, and with all it sends for them.

    The gateway handles each user's updates one at a time, in order (bot/update_order.py): once it has answered
    a sticker sent now, the earlier updates are finished. A test that checks that nothing more was sent waits
    for this answer, not for a pause that may be too short.
    """
    def stickers_answered() -> int:
        return fake_telegram.sent_texts(user_id).count(STICKER_REPLY)

    before = stickers_answered()
    await fake_telegram.enqueue(sticker(user_id))
    await fake_telegram.wait_until(lambda: stickers_answered() > before, f"answer to the sticker of {user_id}")
