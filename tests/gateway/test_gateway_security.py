"""Security of the gateway (issue 13): the web chat's cookie, its rate limits, acknowledged pushes, and
pushes to Telegram farmers first seen in a group."""
from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import func, select

from bot.app import SCHEDULER_KEY, create_app
from bot.conversation import TOO_FAST
from bot.webchat import CHAT_COOKIE, IDENTITY_KEY, PROXIES_KEY, client_address
from knowledge.models import Farmer, HandoffTicket, utcnow
from knowledge.people.farmers import find_farmer
from settings import Settings
from tests.gateway import fake_telegram as tg

FARMER_TG = 7780000
GROUP = -100700800


def _settings(db_url: str, rasa_url: str) -> Settings:
    return Settings(rasa_url=rasa_url, rasa_timeout_seconds=2, knowledge_db_url=db_url, push_interval_seconds=0)


def _answered_ticket(sender: str):
    """A unit of work that gives the farmer with this sender id an officer's answer waiting to be pushed."""
    def work(session) -> int:
        farmer = session.scalars(select(Farmer).where(Farmer.sender_id == sender)).one()
        ticket = HandoffTicket(farmer=farmer, question="玉米叶子发黄怎么办", conversation_id=sender, status="answered",
                               answer="可能缺氮，建议追施尿素。", answered_at=utcnow())
        session.add(ticket)
        session.flush()
        return ticket.id

    return work


async def test_item03_webchat_cookie_is_not_the_sender_id(aiohttp_client, fake_rasa, kb_url, store, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = await aiohttp_client(create_app(_settings(kb_url, fake_rasa.url)))
    cookie = (await client.get("/")).cookies[CHAT_COOKIE].value
    await client.post("/api/messages", json={"message": "玉米多少钱"})
    sender = fake_rasa.received[0]["sender"]
    assert sender.startswith("web-"), "the console tells web farmers by this prefix"
    assert cookie not in sender and sender not in cookie
    assert cookie not in caplog.text

    # Whoever read the sender id (console paths, audit log, logs) and sets it as their cookie is not that farmer:
    # they neither post as them nor take their officer's answers, and the page gives them a cookie of their own.
    store.run_blocking(_answered_ticket(sender))
    await client.server.app[SCHEDULER_KEY].run_once()
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({CHAT_COOKIE: sender})
    assert (await client.post("/api/messages", json={"message": "我是谁"})).status == 400
    assert len(fake_rasa.received) == 1
    assert (await (await client.get("/api/messages/pending")).json())["messages"] == []
    await client.get("/")
    await client.post("/api/messages", json={"message": "我是谁"})
    assert fake_rasa.received[-1]["sender"] not in (sender, cookie)
    assert store.run_blocking(lambda session: find_farmer(session, sender)) is not None

    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({CHAT_COOKIE: cookie})
    assert len((await (await client.get("/api/messages/pending")).json())["messages"]) == 1


async def test_item05_new_cookies_from_one_address_share_its_rate_limit(aiohttp_client, fake_rasa, kb_url, store,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS", "5")
    client = await aiohttp_client(create_app(_settings(kb_url, fake_rasa.url)))
    farmers_before = store.run_blocking(lambda session: session.scalar(select(func.count(Farmer.id))))
    answers = []
    for _ in range(7):
        client.session.cookie_jar.clear()
        await client.get("/")
        response = await client.post("/api/messages", json={"message": "玉米多少钱"})
        answers.append((await response.json())["replies"][0]["text"])
    assert answers[5:] == [TOO_FAST, TOO_FAST]
    assert len(fake_rasa.received) == 5, "a refused message starts no Rasa conversation (no tracker)"
    farmers_after = store.run_blocking(lambda session: session.scalar(select(func.count(Farmer.id))))
    assert farmers_after - farmers_before == 5, "a refused message creates no farmer row"


async def test_item11_webchat_push_is_delivered_only_when_acknowledged(aiohttp_client, fake_rasa, kb_url,
                                                                       store) -> None:
    client = await aiohttp_client(create_app(_settings(kb_url, fake_rasa.url)))
    await client.get("/")
    await client.post("/api/messages", json={"message": "转人工"})
    ticket_id = store.run_blocking(_answered_ticket(fake_rasa.received[0]["sender"]))
    await client.server.app[SCHEDULER_KEY].run_once()

    def status(session) -> str:
        return session.get(HandoffTicket, ticket_id).status

    first = (await (await client.get("/api/messages/pending")).json())["messages"]
    assert len(first) == 1 and "追施尿素" in first[0]["text"]
    assert store.run_blocking(status) == "answered", "not delivered before the page says it showed it"
    again = (await (await client.get("/api/messages/pending")).json())["messages"]
    assert again == first, "an unacknowledged push is offered again"

    ack = await client.post("/api/messages/delivered", json={"ids": [first[0]["id"]]})
    assert ack.status == 200
    assert store.run_blocking(status) == "delivered"
    assert (await (await client.get("/api/messages/pending")).json())["messages"] == []


async def test_item11_farmer_first_seen_in_a_group_gets_pushes_privately(start_gateway, fake_rasa, fake_telegram,
                                                                         store) -> None:
    gateway = await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.mention(FARMER_TG, "玉米多少钱", GROUP))
    await fake_telegram.wait_for("sendMessage")
    store.run_blocking(_answered_ticket(f"tg-{FARMER_TG}"))
    await gateway.scheduler.run_once()
    assert len(fake_telegram.sent_texts(GROUP)) == 1, "only the answer to the question, nothing personal"

    # Once the farmer writes to the bot privately, the waiting answer goes to that private chat.
    await fake_telegram.enqueue(tg.text(FARMER_TG, "你好"))
    await fake_telegram.wait_for("sendMessage", 2)
    assert await gateway.scheduler.run_once() == 1
    assert any("追施尿素" in text for text in fake_telegram.sent_texts(FARMER_TG))
    assert not any("追施尿素" in text for text in fake_telegram.sent_texts(GROUP))


async def test_a_farmer_with_an_old_style_cookie_keeps_their_answers(aiohttp_client, fake_rasa, kb_url,
                                                                              store) -> None:
    legacy = "web-Q2hhbmdlZEJ5Q29va2llcw"
    store.run_blocking(lambda session: session.add(Farmer(sender_id=legacy, channel="webchat")))
    store.run_blocking(_answered_ticket(legacy))
    app = create_app(_settings(kb_url, fake_rasa.url))
    client = await aiohttp_client(app)
    client.session.cookie_jar.update_cookies({CHAT_COOKIE: legacy})
    page = await client.get("/")
    cookie = page.cookies[CHAT_COOKIE].value
    sender = app[IDENTITY_KEY].sender_for(cookie)
    assert sender and legacy not in (cookie, sender)
    assert store.run_blocking(lambda session: find_farmer(session, sender).id) is not None
    assert store.run_blocking(lambda session: find_farmer(session, legacy)) is None
    await app[SCHEDULER_KEY].run_once()
    waiting = (await (await client.get("/api/messages/pending")).json())["messages"]
    assert len(waiting) == 1 and "追施尿素" in waiting[0]["text"]

    # Whoever still holds the old id (it was shown to officers) is a new visitor from now on.
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({CHAT_COOKIE: legacy})
    other = (await client.get("/")).cookies[CHAT_COOKIE].value
    assert other != cookie and store.run_blocking(lambda session: find_farmer(session, sender)) is not None


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("10.0.0.5", "1.2.3.4", "10.0.0.5"),  # not a proxy of ours: its header is the client's own word
    ("10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the entry our proxy added, not the one the client sent
    ("10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4"),  # through two proxies of ours
    ("10.0.0.1", "", "10.0.0.1"),
])
def test_client_address_believes_x_forwarded_for_only_from_trusted_proxies(peer, forwarded, expected) -> None:
    app = web.Application()
    app[PROXIES_KEY] = frozenset({"10.0.0.1", "10.0.0.2"})
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/api/messages", headers=headers, app=app).clone(remote=peer)
    assert client_address(request) == expected


async def test_item08_the_gateway_sends_rasa_the_webhook_secret(aiohttp_client, fake_rasa, kb_url) -> None:
    settings = Settings(rasa_url=fake_rasa.url, knowledge_db_url=kb_url, push_interval_seconds=0,
                        rasa_webhook_secret="s3cret")
    client = await aiohttp_client(create_app(settings))
    await client.get("/")
    await client.post("/api/messages", json={"message": "玉米多少钱"})
    assert fake_rasa.secrets == ["s3cret"]


@pytest.mark.parametrize(("body", "status"), [
    ({"ids": "1"}, 400), ({"ids": [1.5]}, 400), ({"ids": [True]}, 400), ({"ids": list(range(201))}, 400),
    (["ids"], 400), ({"ids": []}, 200),
])
async def test_acknowledgements_must_be_a_short_list_of_push_ids(aiohttp_client, fake_rasa, kb_url, body,
                                                                 status) -> None:
    client = await aiohttp_client(create_app(_settings(kb_url, fake_rasa.url)))
    assert (await client.post("/api/messages/delivered", json={"ids": []})).status == 400, "no cookie yet"
    await client.get("/")
    assert (await client.post("/api/messages/delivered", data={"ids": "1"})).status == 415
    assert (await client.post("/api/messages/delivered", json=body)).status == status
