"""A burst larger than capacity against the real Rasa and action servers, reconciled against Rasa's tracker store.

The gateway is given one turn at Rasa and a one-second deadline, so a burst of 12 farmers asking two questions
each at once overflows it on any machine: some are answered at once, the others kept and answered by the drain.
Afterwards every question is in its farmer's conversation in Rasa's tracker store exactly once, and every
question got exactly one answer, at once or pushed later (tests/gateway/test_admission_burst.py does the same
with 90 messages against a paced stand-in).
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Dict, List, Tuple

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import DRAIN_KEY, create_app
from bot.conversation import APOLOGY, DEFERRED
from bot.webchat import CHAT_COOKIE, CONVERSATION_KEY, IDENTITY_KEY
from knowledge.db import open_store
from knowledge.outbox.deferred import deferred_counts
from settings import Settings

pytestmark = pytest.mark.integration

FARMERS = 12
# A deadline for the drain on a busy two-core machine, not a speed check.
DRAINED_WITHIN_SECONDS = 600


async def test_burst_through_real_rasa_each_question_answered_once(rasa_stack) -> None:
    settings = Settings(rasa_url=rasa_stack["rasa_url"], rasa_timeout_seconds=1, rasa_concurrency=1,
                        rasa_queue_limit=2, knowledge_db_url=rasa_stack["knowledge_db_url"], push_interval_seconds=0)
    app = create_app(settings)
    server = TestServer(app)
    clients: List[TestClient] = []
    try:
        for _ in range(FARMERS):
            client = TestClient(server)
            await client.start_server()
            await client.get("/")
            clients.append(client)

        async def ask(client: TestClient, text: str) -> Tuple[str, List[str]]:
            response = await client.post("/api/messages", json={"message": text})
            assert response.status == 200
            return text, [reply["text"] for reply in (await response.json())["replies"]]

        questions = {number: [f"玉米多少钱一斤 {number}01", f"小麦多少钱一斤 {number}02"] for number in range(FARMERS)}
        results = await asyncio.gather(*(ask(clients[number], text) for number, texts in questions.items()
                                         for text in texts))
        kept = {text for text, replies in results if replies == [DEFERRED]}
        at_once = {text for text, replies in results if replies and replies != [DEFERRED]}
        assert not any(replies == [APOLOGY] for _text, replies in results)
        assert kept and kept | at_once == {text for texts in questions.values() for text in texts}

        deadline = time.monotonic() + DRAINED_WITHIN_SECONDS
        store = open_store(rasa_stack["knowledge_db_url"])
        try:
            while True:
                await app[DRAIN_KEY].drain()
                await app[CONVERSATION_KEY].finish_late()
                counts = store.run_blocking(deferred_counts)
                if not counts.get("waiting") and not counts.get("answering"):
                    break
                assert time.monotonic() < deadline, counts
                await asyncio.sleep(0.5)
        finally:
            store.dispose()
        pushed: Dict[str, int] = {}
        senders = {}
        for number, client in enumerate(clients):
            cookie = next(morsel.value for morsel in client.session.cookie_jar if morsel.key == CHAT_COOKIE)
            senders[number] = app[IDENTITY_KEY].sender_for(cookie)
            offered = (await (await client.get("/api/messages/pending")).json())["messages"]
            for message in offered:
                for text in questions[number]:
                    if f"“{text}”" in message["text"]:
                        pushed[text] = pushed.get(text, 0) + 1
        assert pushed == {text: 1 for text in kept}, "each kept question pushed once, nothing answered at once pushed"
    finally:
        for client in clients:
            await client.close()

    with sqlite3.connect(rasa_stack["tracker_db"]) as tracker:
        for number, sender in senders.items():
            texts = [json.loads(data).get("text") for (data,) in tracker.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,))]
            # By the number each question ends with (the words are as the farmer typed them, or normalised).
            tags = [text.rsplit(" ", 1)[1] for text in questions[number]]
            assert len(texts) == 2 and all(sum(tag in text for text in texts) == 1 for tag in tags), texts
