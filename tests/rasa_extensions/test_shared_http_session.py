"""Rasa's endpoint calls over one kept-alive session (rasa_extensions/shared_http_session.py), against a real server."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from rasa_extensions import shared_http_session
from rasa_extensions.fast_action_validation import source_sha256


def test_rasa_code_relied_on_is_the_code_this_module_was_written_for() -> None:
    # Update the hashes only after reading Rasa's new EndpointConfig.session and request and re-running these tests.
    assert source_sha256(shared_http_session.ORIGINAL_SESSION) == shared_http_session.PATCHED_SOURCE_SHA256["session"]
    assert source_sha256(EndpointConfig.request) == shared_http_session.PATCHED_SOURCE_SHA256["request"]


async def _server() -> Tuple[web.AppRunner, str, List[Dict[str, Any]]]:
    """An HTTP server that records, per request, the client's port (one per connection) and what arrived."""
    seen: List[Dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        seen.append({"peer": request.transport.get_extra_info("peername")[1] if request.transport else None,
                     "header": request.headers.get("X-Extra"), "token": request.query.get("token"),
                     "body": await request.json()})
        if (await request.json()).get("fail"):
            return web.Response(status=500, text="boom")
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/webhook", seen


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EndpointConfig, "session", shared_http_session.session)


def test_calls_share_one_connection_and_arrive_as_before(installed: None) -> None:
    async def scenario() -> List[Dict[str, Any]]:
        runner, url, seen = await _server()
        try:
            endpoint = EndpointConfig(url, headers={"X-Extra": "kept"}, token="secret-token")
            for number in range(5):
                assert await endpoint.request(json={"n": number}, method="post") == {"events": [], "responses": []}
            return seen
        finally:
            await runner.cleanup()

    seen = asyncio.run(scenario())
    assert [call["body"] for call in seen] == [{"n": n} for n in range(5)]
    assert {call["header"] for call in seen} == {"kept"} and {call["token"] for call in seen} == {"secret-token"}
    assert len({call["peer"] for call in seen}) == 1  # one connection for all five (Rasa's own: five)


def test_rasa_s_own_session_opens_a_connection_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # The reference for the test above: without the fix, every call connects anew. (Importing the gateway channel
    # installs the fix in this process, so Rasa's own method is put back for this test.)
    monkeypatch.setattr(EndpointConfig, "session", shared_http_session.ORIGINAL_SESSION)
    async def scenario() -> List[Dict[str, Any]]:
        runner, url, seen = await _server()
        try:
            endpoint = EndpointConfig(url)
            for number in range(3):
                await endpoint.request(json={"n": number}, method="post")
            return seen
        finally:
            await runner.cleanup()

    assert len({call["peer"] for call in asyncio.run(scenario())}) == 3


def test_errors_still_raise_and_the_session_stays_usable(installed: None) -> None:
    async def scenario() -> Any:
        runner, url, _ = await _server()
        try:
            endpoint = EndpointConfig(url)
            with pytest.raises(ClientResponseError) as raised:
                await endpoint.request(json={"fail": True}, method="post")
            assert raised.value.status == 500
            return await endpoint.request(json={"n": 1}, method="post")
        finally:
            await runner.cleanup()

    assert asyncio.run(scenario()) == {"events": [], "responses": []}


def test_a_new_event_loop_gets_a_new_session(installed: None) -> None:
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")

    async def current() -> Any:
        return (await endpoint.session().__aenter__())

    first = asyncio.run(current())
    second = asyncio.run(current())
    assert first is not second


def test_remote_actions_use_the_shared_session(installed: None) -> None:
    # RemoteAction calls its endpoint's request(), which opens `async with self.session()`: the path patched.
    from rasa.shared.core.domain import Domain

    async def scenario() -> List[Dict[str, Any]]:
        runner, url, seen = await _server()
        try:
            from rasa.core.channels.channel import CollectingOutputChannel
            from rasa.core.nlg import TemplatedNaturalLanguageGenerator
            from rasa.shared.core.trackers import DialogueStateTracker

            domain = Domain.from_dict({"actions": ["action_x"]})
            action = RemoteAction("action_x", EndpointConfig(url))
            tracker = DialogueStateTracker("farmer", [])
            for _ in range(2):
                await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain)
            return seen
        finally:
            await runner.cleanup()

    seen = asyncio.run(scenario())
    assert len(seen) == 2 and len({call["peer"] for call in seen}) == 1
