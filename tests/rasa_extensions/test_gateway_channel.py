"""Rasa's gateway channel in a real Sanic server, registered the way `rasa run` registers channels; the agent
is a stand-in that echoes (no model needed: tests/integration/test_rasa_webhook_secret.py runs the real Rasa)."""
from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from rasa_extensions.gateway_channel import SECRET_HEADER, GatewayInput


async def _echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")


async def _post(url: str, headers: dict) -> tuple:
    async with aiohttp.ClientSession() as session, session.post(
        url, json={"sender": "tg-1", "message": "玉米"}, headers=headers
    ) as answer:
        return answer.status, await answer.json()


async def test_only_calls_with_the_secret_reach_the_agent(environment, unused_tcp_port) -> None:
    # One server for every case: Sanic patches its protocol classes at start, which fails for a second app
    # in the same process.
    environment(RASA_WEBHOOK_SECRET="s3cret")
    app = Sanic("gateway_channel_test")
    register([GatewayInput.from_credentials(None)], app, route="/webhooks/")
    server = await app.create_server(host="127.0.0.1", port=unused_tcp_port, return_asyncio_server=True)
    await server.startup()
    app.ctx.agent = SimpleNamespace(handle_message=_echo)
    url = f"http://127.0.0.1:{unused_tcp_port}/webhooks/gateway/webhook"
    try:
        for offered in (None, "guessed", "s3cre", "s3cret ", "S3CRET"):
            assert (await _post(url, {} if offered is None else {SECRET_HEADER: offered}))[0] == 403, offered
        answered = await _post(url, {SECRET_HEADER: "s3cret"})
    finally:
        await server.close()
    assert answered == (200, [{"recipient_id": "tg-1", "text": "收到：玉米"}])


def test_rasa_does_not_start_the_channel_without_a_secret(environment) -> None:
    environment(RASA_WEBHOOK_SECRET="")
    with pytest.raises(RasaException, match="RASA_WEBHOOK_SECRET"):
        GatewayInput.from_credentials(None)
