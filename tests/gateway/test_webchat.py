"""The web chat through the gateway's aiohttp app, against a local fake of Rasa's REST channel."""
from __future__ import annotations

import pytest
from aiohttp import web

from bot.app import create_app
from bot.conversation import APOLOGY, DEFERRED, MAX_MESSAGE_CHARS, TOO_FAST, TOO_LONG, RateLimiter
from bot.webchat import CHAT_COOKIE, CONVERSATION_KEY
from knowledge.outbox.deferred import deferred_counts
from settings import Settings


def _settings(db_url: str, rasa_url: str, timeout: int = 10) -> Settings:
    return Settings(rasa_url=rasa_url, rasa_timeout_seconds=timeout, knowledge_db_url=db_url, push_interval_seconds=0)


async def _chat_client(aiohttp_client, rasa_url: str, db_url: str, timeout: int = 10):
    client = await aiohttp_client(create_app(_settings(db_url, rasa_url, timeout)))
    page = await client.get("/")
    assert page.status == 200
    assert "乡信" in await page.text()
    return client


async def test_message_goes_to_rasa_with_stable_sender_and_reply_comes_back(aiohttp_client, fake_rasa, kb_url) -> None:
    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url)
    first = await client.post("/api/messages", json={"message": "玉米多少钱一斤"})
    second = await client.post("/api/messages", json={"message": "那小麦呢"})
    assert first.status == 200
    assert (await first.json())["replies"] == [{"text": "玉米：1.00–1.05元/斤", "buttons": []}]
    assert (await first.json())["deferred"] is False
    assert second.status == 200
    senders = {message["sender"] for message in fake_rasa.received}
    assert len(senders) == 1 and senders.pop().startswith("web-")
    assert fake_rasa.received[0]["message"] == "玉米多少钱一斤"
    assert fake_rasa.received[0]["metadata"] == {"channel": "webchat"}


async def test_consecutive_texts_are_joined_and_buttons_kept(aiohttp_client, fake_rasa, kb_url) -> None:
    fake_rasa.reply = [
        {"text": "石家庄暂时没有玉米的价格，下面是全国的数据。"},
        {"text": "玉米：1.00–1.05元/斤"},
        {"text": "您想查哪种？", "buttons": [{"title": "小麦", "payload": '/ask_price{"product":"小麦"}'}]},
    ]
    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url)
    replies = (await (await client.post("/api/messages", json={"message": "石家庄玉米"})).json())["replies"]
    assert [reply["text"] for reply in replies] == [
        "石家庄暂时没有玉米的价格，下面是全国的数据。\n玉米：1.00–1.05元/斤\n您想查哪种？"
    ]
    assert replies[0]["buttons"] == [{"title": "小麦", "payload": '/ask_price{"product":"小麦"}'}]


async def test_rasa_down_keeps_the_message_and_says_it_will_be_answered(aiohttp_client, unused_tcp_port, kb_url,
                                                                        store) -> None:
    client = await _chat_client(aiohttp_client, f"http://127.0.0.1:{unused_tcp_port}", kb_url)
    response = await client.post("/api/messages", json={"message": "玉米多少钱"})
    body = await response.json()
    assert body == {"replies": [{"text": DEFERRED, "buttons": []}], "deferred": True}
    with store.session() as session:
        assert deferred_counts(session) == {"waiting": 1}


async def test_rasa_too_slow_defers_and_the_late_answer_reaches_the_page(aiohttp_client, fake_rasa, kb_url) -> None:
    fake_rasa.delay = 2
    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url, timeout=1)
    response = await client.post("/api/messages", json={"message": "玉米多少钱"})
    assert (await response.json())["replies"][0]["text"] == DEFERRED
    await client.app[CONVERSATION_KEY].finish_late()
    pending = (await (await client.get("/api/messages/pending")).json())["messages"]
    assert [message["text"] for message in pending] == ["您刚才问：“玉米多少钱”\n玉米：1.00–1.05元/斤"]
    assert len(fake_rasa.received) == 1, "Rasa was asked once; the gateway waited for its answer"


async def test_rasa_error_status_gives_an_apology(aiohttp_client, fake_rasa, kb_url) -> None:
    fake_rasa.status = 500
    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url)
    response = await client.post("/api/messages", json={"message": "玉米多少钱"})
    assert (await response.json())["replies"][0]["text"] == APOLOGY


@pytest.mark.parametrize("body", ["<html>502 Bad Gateway</html>", '{"error": "no"}', "[1, 2]"])
async def test_an_answer_that_is_not_rasas_gives_an_apology(aiohttp_client, serve, kb_url, body) -> None:
    async def not_rasa(_request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    impostor = web.Application()
    impostor.router.add_post("/webhooks/gateway/webhook", not_rasa)
    client = await _chat_client(aiohttp_client, await serve(impostor), kb_url)
    response = await client.post("/api/messages", json={"message": "玉米多少钱"})
    assert response.status == 200
    assert (await response.json())["replies"][0]["text"] == APOLOGY


async def test_overlong_message_is_refused_politely_without_calling_rasa(aiohttp_client, fake_rasa, kb_url) -> None:
    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url)
    response = await client.post("/api/messages", json={"message": "玉" * (MAX_MESSAGE_CHARS + 1)})
    assert (await response.json())["replies"][0]["text"] == TOO_LONG
    assert fake_rasa.received == []


async def test_post_without_the_chat_cookie_or_as_a_form_is_refused(aiohttp_client, fake_rasa, kb_url) -> None:
    client = await aiohttp_client(create_app(_settings(kb_url, fake_rasa.url)))
    no_cookie = await client.post("/api/messages", json={"message": "玉米"})
    assert no_cookie.status == 400
    await client.get("/")
    as_form = await client.post("/api/messages", data={"message": "玉米"})
    assert as_form.status == 415
    assert fake_rasa.received == []


async def test_chat_cookie_is_httponly_and_lax(aiohttp_client, fake_rasa, kb_url) -> None:
    # Lax keeps the conversation of a farmer who arrives by a link from another site (Strict replaced it).
    client = await aiohttp_client(create_app(_settings(kb_url, fake_rasa.url)))
    page = await client.get("/")
    cookie = page.cookies[CHAT_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_rate_limiter_allows_twenty_a_minute_then_refuses_until_the_window_passes() -> None:
    limiter = RateLimiter(per_minute=20)
    assert all(limiter.allow("farmer", now=float(second)) for second in range(20))
    assert not limiter.allow("farmer", now=30.0)
    assert limiter.allow("someone else", now=30.0)
    assert limiter.allow("farmer", now=61.0)


def test_rate_limiter_forgets_senders_quiet_for_a_minute() -> None:
    limiter = RateLimiter(per_minute=20)
    for number in range(1000):
        limiter.allow(f"farmer-{number}", now=100.0)
    assert limiter.tracked_senders() == 1000
    limiter.allow("farmer-0", now=130.0)
    assert limiter.tracked_senders() == 1000, "a window less than a minute old is kept"
    limiter.allow("someone", now=200.0)
    assert limiter.tracked_senders() == 1
    # A sender forgotten and back is counted afresh, still limited.
    assert all(limiter.allow("farmer-1", now=200.0 + second) for second in range(20))
    assert not limiter.allow("farmer-1", now=221.0)


async def test_rate_limit_reply(aiohttp_client, fake_rasa, kb_url) -> None:
    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url)
    texts = []
    for _ in range(21):
        response = await client.post("/api/messages", json={"message": "玉米"})
        texts.append((await response.json())["replies"][0]["text"])
    assert texts[-1] == TOO_FAST
    assert len(fake_rasa.received) == 20


async def test_my_region_is_set_only_by_the_farmer_and_a_shared_name_asks_which(aiohttp_client, fake_rasa,
                                                                                 kb_url) -> None:
    from knowledge.db import make_engine, make_session_factory
    from knowledge.people.farmers import find_farmer

    client = await _chat_client(aiohttp_client, fake_rasa.url, kb_url)
    # A question naming a place leaves the farmer without a home region.
    await client.post("/api/messages", json={"message": "帮我买张去北京的火车票"})
    sender = fake_rasa.received[-1]["sender"]
    engine = make_engine(kb_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            farmer = find_farmer(session, sender)
            assert farmer is None or farmer.region is None
        shared = await client.post("/api/region", json={"place": "朝阳"})
        choices = (await shared.json())["choices"]
        assert shared.status == 200 and "北京市朝阳区" in {choice["label"] for choice in choices}
        chosen = next(choice for choice in choices if choice["label"] == "北京市朝阳区")
        stored = await client.post("/api/region", json={"region_id": chosen["id"]})
        assert (await stored.json())["stored"] == "北京市朝阳区"
        with factory() as session:
            assert find_farmer(session, sender).region.name == "朝阳区"
        unknown = await client.post("/api/region", json={"place": "火星"})
        assert unknown.status == 404
        as_form = await client.post("/api/region", data={"place": "藁城"})
        assert as_form.status == 415
    finally:
        engine.dispose()
