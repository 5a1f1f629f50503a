"""The console on a PostgreSQL knowledge DB (production): edits, import, review, corrections, answers and
the dashboard. Skipped without PostgreSQL; a failure under CI."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

import pytest
from aiohttp import FormData
from sqlalchemy import select

from console.app import create_app
from knowledge.db import make_engine, make_session_factory
from knowledge.models import (
    Article,
    AuditLog,
    ConversationReview,
    HandoffTicket,
    Market,
    MessageCorrection,
    PriceRecord,
)
from scripts.demo_knowledge import TODAY, build_knowledge_db
from scripts.demo_people import add_people
from settings import PROJECT_ROOT, Settings
from tests.console.conftest import sign_in
from tests.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_knowledge(postgres_server: PostgresServer) -> Iterator[str]:
    """A throwaway PostgreSQL knowledge DB, migrated, seeded and with the console's people."""
    with postgres_server.throwaway("xx_console_test") as url:
        add_people(build_knowledge_db(url))
        yield url


async def test_console_flows_on_postgresql(aiohttp_client, postgres_knowledge, tracker_path, tmp_path) -> None:
    settings = Settings(knowledge_db_url=postgres_knowledge, tracker_db_url=f"sqlite:///{tracker_path}",
                        console_secret_key="pg-test-key", upload_dir=tmp_path / "uploads")
    client = await aiohttp_client(create_app(settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY))
    token = await sign_in(client, "gaocheng")
    price = {"product": "玉米", "market": "藁城区玉米收购点", "region": "藁城区", "date": "2026-11-20", "unit": "元/斤",
             "avg_price": "1.15", "source": "藁城区农业农村局", "confidence": "V", "csrf_token": token}
    assert "已新增价格" in await (await client.post("/prices", data=price)).text()
    form = FormData()
    for key, value in (("csrf_token", token), ("kind", "prices")):
        form.add_field(key, value)
    rows = "品名,市场,平均价,单位,发布日期,来源\n小麦,藁城区玉米收购点,1.25,元/斤,2026-11-20,局\n"
    form.add_field("file", rows.encode(), filename="p.csv")
    page = await (await client.post("/imports/preview", data=form)).text()
    staged = page.split('name="token" value="')[1].split('"')[0]
    confirmed = await client.post("/imports/confirm", data={"csrf_token": token, "token": staged})
    assert "导入成功" in await confirmed.text()
    article = {"category": "policy", "topic": "耕地地力保护补贴", "title": "藁城区补贴标准",
               "answer": "每亩约100元，以当地公示为准。", "region": "藁城区", "source": "藁城区农业农村局",
               "confidence": "U", "status": "published",
               "questions": "藁城粮补多少", "csrf_token": token}
    assert "已新增文章" in await (await client.post("/articles", data=article)).text()
    assert "工单 #1 已回答" in await (await client.post("/handoff/1/answer", data={"csrf_token": token,
                                                                                 "answer": "今天1.15元/斤"})).text()
    client.session.cookie_jar.clear()

    token = await sign_in(client, "reviewer")
    await client.post("/conversations/tg-1001/review", data={"csrf_token": token, "reviewed": "1", "tags": "价格"})
    listing = await (await client.get("/conversations?reviewed=no&negative=0&tag=")).text()
    assert "/conversations/tg-1001" not in listing and "/conversations/tg-2002" in listing
    assert "/conversations/tg-1001" in await (await client.get("/conversations?negative=1")).text()
    transcript = await (await client.get("/conversations/tg-2002")).text()
    event = int(transcript.split('id="m')[1].split('"')[0])
    await client.post(f"/conversations/tg-2002/messages/{event}", data={
        "csrf_token": token, "intent": "ask_policy", "annotated": "俺家[粮补](policy_topic)咋还没到"})
    assert "俺家[粮补](policy_topic)咋还没到" in await (await client.get("/training-data/nlu.yml")).text()
    assert "<svg" in await (await client.get("/")).text()

    engine = make_engine(postgres_knowledge)
    with make_session_factory(engine)() as session:
        record = session.scalars(select(PriceRecord).join(Market).where(Market.name == "藁城区玉米收购点")
                                 .order_by(PriceRecord.id)).first()
        assert record.avg_price == Decimal("2.3")
        assert session.scalars(select(Article).where(Article.title == "藁城区补贴标准")).one().region_id
        assert session.get(HandoffTicket, 1).status == "answered"
        assert session.scalars(select(ConversationReview)).one().tags == "价格"
        assert session.scalars(select(MessageCorrection)).one().intent == "ask_policy"
        assert {entry.entity for entry in session.scalars(select(AuditLog))} >= {
            "price_record", "article", "handoff_ticket", "conversation_review", "message_correction"}
        from knowledge.articles.search import search_articles

        assert search_articles(session, "藁城粮补多少", region="藁城区")[0].title == "藁城区补贴标准"
    engine.dispose()
