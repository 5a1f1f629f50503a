"""Price feeds and import batches in the console: an admin sets up a feed (officers cannot); a broken feed's page shows
the last run, its outcome and every reason; an imported batch is undone with a button, audited, its prices restored;
an officer undoes only their own uploads."""
from __future__ import annotations

import datetime as dt
import ipaddress
import re

import pytest
from aiohttp import web
from sqlalchemy import func, select

from console.app import create_app
from knowledge.db import open_store
from knowledge.feeds.fetching import FeedPolicy
from knowledge.feeds.runner import run_due_feeds
from knowledge.models import AuditLog, ImportBatch, PriceFeed, PriceRecord, Region, utcnow
from scripts.demo_knowledge import TODAY
from settings import PROJECT_ROOT, Settings
from tests.console.conftest import sign_in
from tests.console.test_console_imports import GOOD_ROWS, HEADER, _staged_token, _upload

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
async def feed_server(aiohttp_server):
    files = {}

    async def serve(request: web.Request) -> web.Response:
        status, body = files.get(request.match_info["name"], (404, ""))
        return web.Response(status=status, text=body)

    app = web.Application()
    app.router.add_get("/feeds/{name}", serve)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}/feeds/", files


@pytest.fixture
async def feed_client(aiohttp_client, console_settings, feed_server):
    base, _ = feed_server
    settings = Settings(**{**console_settings.dict(), "price_feed_allowed_urls": base,
                           "price_feed_allowed_networks": "127.0.0.1/32"})
    return await aiohttp_client(create_app(settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY))


def _policy(base: str) -> FeedPolicy:
    return FeedPolicy(allowed_urls=(base,), allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))


async def _gateway_round(knowledge_url: str, base: str):
    """What the gateway's scheduler does every half minute."""
    store = open_store(knowledge_url)
    try:
        return await run_due_feeds(store, _policy(base), SHANGHAI, "gateway", now=utcnow() + dt.timedelta(seconds=1))
    finally:
        store.dispose()


def _hebei(knowledge) -> int:
    with knowledge() as session:
        return session.scalar(select(Region.id).where(Region.name == "河北省"))


async def test_an_admin_sets_up_a_feed_and_its_page_shows_why_it_failed(feed_client, knowledge, knowledge_url,
                                                                         feed_server) -> None:
    base, files = feed_server
    files["sjz.csv"] = (200, HEADER + GOOD_ROWS + "火星菜,藁城区玉米收购点,藁城区,,1,,元/斤,2026-11-20,局\n")
    token = await sign_in(feed_client, "admin")
    form = {"csrf_token": token, "name": "藁城日报", "source": base + "sjz.csv", "schedule": "07:30",
            "region_id": str(_hebei(knowledge)), "column_map": "", "active": "1"}

    refused = await feed_client.post("/feeds", data={**form, "source": "http://10.0.0.8/prices.csv"})
    assert refused.status == 400 and "地址不在本系统允许的范围内" in await refused.text()
    response = await feed_client.post("/feeds", data=form, allow_redirects=False)
    assert response.status == 302
    feed_page = response.headers["Location"]
    with knowledge() as session:
        feed = session.scalars(select(PriceFeed)).one()
        assert (feed.schedule, feed.updated_by) == ("daily:07:30", "admin")
        assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.entity == "price_feed")) == 1
    before = _count_prices(knowledge)

    [report] = await _gateway_round(knowledge_url, base)

    assert report.outcome == "failed" and _count_prices(knowledge) == before
    page = await (await feed_client.get(feed_page)).text()
    assert "失败，未导入任何数据" in page and "第4行：不认识的品名“火星菜”" in page
    assert "每天 07:30" in page
    listing = await (await feed_client.get("/feeds")).text()
    assert "藁城日报" in listing and "失败，未导入任何数据" in listing

    # Fixed at the source: "立即获取" makes it due, the next round lands it.
    files["sjz.csv"] = (200, HEADER + GOOD_ROWS)
    assert (await feed_client.post(feed_page + "/run", data={"csrf_token": token}, allow_redirects=False)).status == 302
    [report] = await _gateway_round(knowledge_url, base)
    assert report.outcome == "ok" and _count_prices(knowledge) == before + 2
    page = await (await feed_client.get(feed_page)).text()
    assert "成功导入" in page and f"#{report.batch_id}" in page and "撤销" in page


def _count_prices(knowledge) -> int:
    with knowledge() as session:
        return session.scalar(select(func.count(PriceRecord.id)))


async def _upload_as(client, username: str, rows: str) -> int:
    token = await sign_in(client, username)
    page = await (await client.post("/imports/preview", data=_upload(token, "prices", "prices-1121.csv",
                                                                     (HEADER + rows).encode("utf-8")))).text()
    response = await client.post("/imports/confirm", data={"csrf_token": token, "token": _staged_token(page)},
                                 allow_redirects=False)
    assert response.status == 302
    client.session.cookie_jar.clear()
    return token


async def test_an_uploaded_batch_is_undone_by_its_officer_and_restores_the_prices(client, knowledge) -> None:
    await _upload_as(client, "gaocheng", GOOD_ROWS)
    later = GOOD_ROWS.replace("1.10,1.15,1.20", "1.20,1.25,1.30")  # a later file overwrites the corn price
    await _upload_as(client, "gaocheng", later)
    with knowledge() as session:
        batches = list(session.scalars(select(ImportBatch).order_by(ImportBatch.id)))
        assert [(batch.kind, batch.source_name, batch.author) for batch in batches] == [
            ("console", "prices-1121.csv", "gaocheng"), ("console", "prices-1121.csv", "gaocheng")]
    latest = batches[-1].id

    # Another officer sees neither batch and may not undo it.
    token = await sign_in(client, "fengtai")
    assert "prices-1121.csv" not in await (await client.get("/imports/batches")).text()
    response = await client.post(f"/imports/batches/{latest}/undo", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 403
    client.session.cookie_jar.clear()

    token = await sign_in(client, "gaocheng")
    page = await (await client.get("/imports/batches")).text()
    assert re.search(rf'action="/imports/batches/{latest}/undo" data-confirm="撤销批次 #{latest}', page)
    response = await client.post(f"/imports/batches/{latest}/undo", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/imports/batches"
    page = await (await client.get("/imports/batches")).text()
    assert f"已撤销导入批次 #{latest}" in page and "由 gaocheng 撤销" in page
    with knowledge() as session:
        corn = session.scalars(select(PriceRecord.entered_avg).where(PriceRecord.source == "藁城区农业农村局",
                                                                     PriceRecord.entered_max.isnot(None))).one()
        undo = session.scalars(select(AuditLog).where(AuditLog.action == "undo")).one()
    assert str(corn.normalize()) == "1.15"
    assert (undo.actor, undo.entity, undo.entity_id) == ("gaocheng", "import_batch", latest)

    # Undone once is undone: a second click says so and changes nothing.
    response = await client.post(f"/imports/batches/{latest}/undo", data={"csrf_token": token})
    assert "这个批次已经撤销过了" in await response.text()
