"""The gateway runs due price feeds: two gateway processes over one knowledge DB fetch a due feed once, from a real
local HTTP server that the test's settings allow explicitly (PRICE_FEED_ALLOWED_URLS and _NETWORKS)."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import List

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import FEEDS_KEY, create_app
from knowledge.feeds.config import check_feed_form, create_feed
from knowledge.feeds.fetching import FeedPolicy
from knowledge.models import ImportBatch, PriceFeed, PriceFeedRun, Region, utcnow
from settings import Settings

CSV = ("品名,市场,地区,平均价,单位,发布日期,来源\n"
       "玉米,石家庄桥西市场,石家庄,1.18,元/斤,2026-11-21,石家庄市农业农村局\n")


async def test_two_gateways_run_a_due_feed_once(aiohttp_server, store, kb_url, tmp_path) -> None:
    hits: List[str] = []

    async def prices(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text=CSV, content_type="text/csv")

    feed_app = web.Application()
    feed_app.router.add_get("/feeds/sjz.csv", prices)
    server = await aiohttp_server(feed_app, host="127.0.0.1")
    base = f"http://127.0.0.1:{server.port}/feeds/"
    settings = Settings(knowledge_db_url=kb_url, tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                        push_interval_seconds=0, price_feed_allowed_urls=base,
                        price_feed_allowed_networks="127.0.0.1/32")

    def add(session) -> None:
        region_id = session.scalar(select(Region.id).where(Region.name == "河北省"))
        form = {"name": "石家庄日报价", "source": base + "sjz.csv", "schedule": "daily:07:00",
                "region_id": str(region_id), "active": "on"}
        checked = check_feed_form(session, form, FeedPolicy.from_settings(settings))
        assert not checked.problems
        create_feed(session, checked, "admin", now=utcnow() - dt.timedelta(minutes=1))

    store.run_blocking(add)
    clients = [TestClient(TestServer(create_app(settings))) for _ in range(2)]
    try:
        for client in clients:
            await client.start_server()
        rounds = await asyncio.gather(*(client.app[FEEDS_KEY].run_once() for client in clients))
    finally:
        for client in clients:
            await client.close()
    assert sorted([report.outcome for report in reports] for reports in rounds) == [[], ["ok"]]
    assert hits == ["/feeds/sjz.csv"]

    def state(session):
        feed = session.scalars(select(PriceFeed)).one()
        return (feed.last_outcome, feed.next_run_at > utcnow(), session.scalar(select(func.count(PriceFeedRun.id))),
                session.scalar(select(func.count(ImportBatch.id))))

    assert store.run_blocking(state) == ("ok", True, 1, 1)
