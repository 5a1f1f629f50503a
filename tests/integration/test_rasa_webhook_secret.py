"""Rasa's webhook answers only the gateway (issue 13 item 8): the real Rasa server with credentials.yml."""
from __future__ import annotations

import os

import aiohttp
import pytest

pytestmark = pytest.mark.integration

WEBHOOK = "/webhooks/gateway/webhook"


async def test_item08_rasa_webhook_requires_the_gateway_secret(rasa_stack) -> None:
    body = {"sender": "tg-4242", "message": "玉米多少钱一斤", "metadata": {"channel": "telegram", "chat_id": "-100999"}}
    secret = os.environ.get("RASA_WEBHOOK_SECRET", "")
    async with aiohttp.ClientSession(base_url=rasa_stack["rasa_url"]) as session:
        for headers in ({}, {"X-Gateway-Secret": "guessed"}, {"X-Gateway-Secret": secret[:-1]}):
            async with session.post(WEBHOOK, json=body, headers=headers) as refused:
                assert refused.status == 403
        async with session.post("/webhooks/rest/webhook", json=body) as open_channel:
            assert open_channel.status == 404, "Rasa's own REST channel is not served"
        async with session.post(WEBHOOK, json=body, headers={"X-Gateway-Secret": secret}) as answered:
            assert answered.status == 200
            replies = await answered.json()
    assert secret and any("玉米" in (reply.get("text") or "") for reply in replies)
