"""Price feeds against a real local HTTP server (aiohttp on 127.0.0.1, allowed explicitly here as an installation
would allow its own intranet) and a real folder: a good file lands, audited with the feed as author; a broken
one (bad row, market outside the feed's region, HTTP 500, an address the installation does not allow,
directly or by a redirect) lands nothing and is reported on the feed and in the log; two schedulers run a
due feed once; a feed's batch can be undone. Every test runs on SQLite and on PostgreSQL.

Expected before the fix: there were no feeds, so prices stayed as typed (every seeded price 398–791 days old).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import ipaddress
import json
import logging
from decimal import Decimal
from typing import Dict, List

import openpyxl
import pytest
from aiohttp import web
from sqlalchemy import func, select

from knowledge.db import KnowledgeStore, open_store
from knowledge.feeds import runner
from knowledge.feeds.config import check_feed_form, create_feed
from knowledge.feeds.fetching import FeedPolicy, address_allowed
from knowledge.feeds.runner import claim_feed, due_feeds, run_due_feeds
from knowledge.models import AuditLog, ImportBatch, PriceFeed, PriceFeedRun, PriceRecord, Region
from knowledge.prices.batches import undo_batch
from knowledge.prices.queries import latest_price

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
HEADER = "品名,市场,地区,最低价,平均价,最高价,单位,发布日期,来源\n"
GOOD = HEADER + ("玉米,石家庄桥西市场,石家庄,,1.18,,元/斤,2026-11-21,石家庄市农业农村局\n"
                 "小麦,石家庄桥西市场,石家庄,,1.31,,元/斤,2026-11-21,石家庄市农业农村局\n")
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


class FeedServer:
    """A local HTTP server: path → (status, body, headers); counts the requests it got."""

    def __init__(self) -> None:
        self.routes: Dict[str, tuple] = {}
        self.hits: List[str] = []
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        status, body, headers = self.routes.get(request.path, (404, "", {}))
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        return web.Response(status=status, body=data, headers=headers)


@pytest.fixture
async def feed_server(aiohttp_server) -> FeedServer:
    server = FeedServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    running = await aiohttp_server(app, host="127.0.0.1")
    server.base = f"http://127.0.0.1:{running.port}"
    return server


@pytest.fixture
def store(kb) -> KnowledgeStore:
    store = open_store(kb.url)
    yield store
    store.dispose()


def add_feed(kb, policy: FeedPolicy, source: str, name: str = "石家庄日报价", region: str = "河北省",
             column_map: str = "", schedule: str = "60") -> int:
    with kb.scope() as session:
        region_id = session.scalar(select(Region.id).where(Region.name == region))
        checked = check_feed_form(session, {"name": name, "source": source, "schedule": schedule,
                                            "region_id": str(region_id), "column_map": column_map, "active": "on"},
                                  policy)
        assert not checked.problems, checked.problems
        return create_feed(session, checked, "admin", now=dt.datetime(2026, 11, 22, 0, 0)).id


def http_policy(server: FeedServer, networks=LOOPBACK) -> FeedPolicy:
    return FeedPolicy(allowed_urls=(server.base + "/feeds/",), allowed_networks=networks)


NOW = dt.datetime(2026, 11, 22, 1, 0)


async def run(store, policy, now=NOW, worker="gateway-1"):
    return await run_due_feeds(store, policy, SHANGHAI, worker, now=now)


def price_count(kb) -> int:
    with kb.scope() as session:
        return session.scalar(select(func.count(PriceRecord.id)))


def feed_state(kb, feed_id: int):
    with kb.scope() as session:
        feed = session.get(PriceFeed, feed_id)
        runs = list(session.scalars(select(PriceFeedRun).where(PriceFeedRun.feed_id == feed_id)
                                    .order_by(PriceFeedRun.id)))
        return feed.last_outcome, [(run.outcome, json.loads(run.reasons)) for run in runs]


async def test_a_feed_fetched_over_http_lands_audited_with_the_feed_as_author(kb, store, feed_server):
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD, {"Content-Type": "text/csv; charset=utf-8"})
    policy = http_policy(feed_server)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")

    reports = await run(store, policy)

    assert [(report.outcome, report.rows) for report in reports] == [("ok", 2)]
    with kb.scope() as session:
        answer = latest_price(session, "玉米", "石家庄", today=dt.date(2026, 11, 22))
        batch = session.get(ImportBatch, reports[0].batch_id)
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "import")).one()
        authors = set(session.scalars(select(PriceRecord.entered_by).where(PriceRecord.source == "石家庄市农业农村局")))
    assert answer.quote.avg_price == Decimal("1.18") and authors == {"feed:石家庄日报价"}
    assert (batch.kind, batch.feed_id, batch.author, batch.source_name) == ("feed", feed_id, "feed:石家庄日报价",
                                                                             "sjz.csv")
    assert audit.actor == "feed:石家庄日报价"
    assert feed_state(kb, feed_id) == ("ok", [("ok", [])])

    # Not due again until its schedule says so; then the same answer is not imported twice.
    assert await run(store, policy, now=NOW + dt.timedelta(minutes=30)) == []
    again = await run(store, policy, now=NOW + dt.timedelta(minutes=61))
    assert [report.outcome for report in again] == ["unchanged"]
    assert feed_server.hits == ["/feeds/sjz.csv", "/feeds/sjz.csv"]
    with kb.scope() as session:
        assert session.scalar(select(func.count(ImportBatch.id))) == 1


async def test_a_file_with_a_bad_row_lands_nothing_and_is_reported(kb, store, feed_server, caplog):
    bad_row = "玉米棒子,石家庄桥西市场,石家庄,,1.2,,元/斤,2026-11-21,局\n"
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD + bad_row, {})
    policy = http_policy(feed_server)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")
    before = price_count(kb)

    with caplog.at_level(logging.INFO, logger="knowledge.feeds.runner"):
        reports = await run(store, policy)

    assert [report.outcome for report in reports] == ["failed"]
    assert price_count(kb) == before  # the two good rows did not land either
    outcome, runs = feed_state(kb, feed_id)
    assert outcome == "failed" and runs == [("failed", ["第4行：不认识的品名“玉米棒子”（不在产品表，也不是已知别名）"])]
    logged = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(logged) == 1 and "failed on sjz.csv" in logged[0] and "1 of 3 rows refused" in logged[0]
    assert "line 4" in logged[0]
    with kb.scope() as session:
        assert session.scalar(select(func.count(ImportBatch.id))) == 0


async def test_rows_outside_the_feed_region_are_refused(kb, store, feed_server):
    beijing = "大白菜,北京新发地农产品批发市场,,,0.6,,元/斤,2026-11-21,新发地\n"
    feed_server.routes["/feeds/all.csv"] = (200, GOOD + beijing, {})
    policy = http_policy(feed_server)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/all.csv")
    before = price_count(kb)
    assert [report.outcome for report in await run(store, policy)] == ["failed"]
    assert price_count(kb) == before
    assert feed_state(kb, feed_id)[1] == [("failed", ["第4行：市场“北京新发地农产品批发市场”不在“河北省”范围内"])]


async def test_an_http_error_is_reported(kb, store, feed_server, caplog):
    feed_server.routes["/feeds/sjz.csv"] = (500, "oops", {})
    policy = http_policy(feed_server)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")
    with caplog.at_level(logging.WARNING, logger="knowledge.feeds.runner"):
        assert [report.outcome for report in await run(store, policy)] == ["failed"]
    assert feed_state(kb, feed_id) == ("failed", [("failed", ["价格源服务器返回错误 HTTP 500"])])
    assert any("HTTP 500 from 127.0.0.1" in record.getMessage() for record in caplog.records)


async def test_a_private_address_is_refused_unless_the_installation_allows_it(kb, store, feed_server, caplog):
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD, {})
    policy = http_policy(feed_server, networks=())  # the URL is on the allow-list, loopback is not allowed
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")
    before = price_count(kb)
    with caplog.at_level(logging.WARNING, logger="knowledge.feeds.runner"):
        assert [report.outcome for report in await run(store, policy)] == ["failed"]
    assert feed_server.hits == []  # refused before connecting
    assert price_count(kb) == before
    reasons = feed_state(kb, feed_id)[1][0][1]
    assert reasons == ["地址“127.0.0.1”指向内部网络地址 127.0.0.1，本系统不允许价格源访问内部地址"]
    assert any("non-public address" in record.getMessage() for record in caplog.records)


async def test_a_host_name_that_resolves_to_loopback_is_refused(kb, store, feed_server):
    port = feed_server.base.rsplit(":", 1)[1]
    policy = FeedPolicy(allowed_urls=(f"http://localhost:{port}/feeds/",))
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD, {})
    feed_id = add_feed(kb, policy, f"http://localhost:{port}/feeds/sjz.csv")
    assert [report.outcome for report in await run(store, policy)] == ["failed"]
    assert feed_server.hits == []
    assert "内部网络地址" in feed_state(kb, feed_id)[1][0][1][0]


@pytest.mark.parametrize("target", ["other-host", "off-the-list", "private-address"])
async def test_a_redirect_is_checked_like_the_first_url(kb, store, feed_server, target):
    port = feed_server.base.rsplit(":", 1)[1]
    location = {
        "other-host": f"http://localhost:{port}/feeds/sjz.csv",  # not on the allow-list
        "off-the-list": "/admin/secret.csv",  # same server, outside the allowed prefix
        "private-address": f"http://127.0.0.2:{port}/feeds/sjz.csv",  # allowed URL, address not allowed
    }[target]
    feed_server.routes["/feeds/moved.csv"] = (302, "", {"Location": location})
    feed_server.routes["/admin/secret.csv"] = (200, GOOD, {})
    policy = FeedPolicy(allowed_urls=(feed_server.base + "/feeds/", f"http://127.0.0.2:{port}/feeds/"),
                        allowed_networks=LOOPBACK)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/moved.csv")
    before = price_count(kb)
    assert [report.outcome for report in await run(store, policy)] == ["failed"]
    assert feed_server.hits == ["/feeds/moved.csv"]
    assert price_count(kb) == before
    assert feed_state(kb, feed_id)[0] == "failed"


async def test_a_feed_maps_its_own_column_names(kb, store, feed_server):
    body = ("产品名称,批发市场,所在地,均价,计价单位,日期,信息来源\n"
            "玉米,石家庄桥西市场,石家庄,1.22,元/斤,2026-11-21,石家庄市农业农村局\n")
    feed_server.routes["/feeds/own.csv"] = (200, body, {})
    policy = http_policy(feed_server)
    add_feed(kb, policy, feed_server.base + "/feeds/own.csv", column_map=(
        "品名=产品名称\n市场=批发市场\n地区=所在地\n平均价=均价\n单位=计价单位\n发布日期=日期\n来源=信息来源"))
    assert [report.outcome for report in await run(store, policy)] == ["ok"]
    with kb.scope() as session:
        assert latest_price(session, "玉米", "石家庄", today=dt.date(2026, 11, 22)).quote.avg_price == Decimal("1.22")


async def test_a_folder_feed_imports_each_new_file_once(kb, store, tmp_path):
    root = tmp_path / "feeds"
    (root / "sjz").mkdir(parents=True)
    (root / "sjz" / "2026-11-21.csv").write_text(GOOD, encoding="utf-8")
    policy = FeedPolicy(root=root)
    feed_id = add_feed(kb, policy, "sjz", schedule="every:5")
    assert [(report.outcome, report.file_name) for report in await run(store, policy)] == [("ok", "2026-11-21.csv")]
    assert [report.outcome for report in await run(store, policy, now=NOW + dt.timedelta(minutes=6))] == ["unchanged"]
    (root / "sjz" / "2026-11-22.csv").write_text(GOOD.replace("1.18", "1.20").replace("11-21", "11-22"), "utf-8")
    later = await run(store, policy, now=NOW + dt.timedelta(minutes=12))
    assert [(report.outcome, report.file_name) for report in later] == [("ok", "2026-11-22.csv")]
    with kb.scope() as session:
        assert session.scalar(select(func.count(ImportBatch.id)).where(ImportBatch.feed_id == feed_id)) == 2


def test_a_folder_outside_the_root_is_refused(kb, tmp_path):
    policy = FeedPolicy(root=tmp_path / "feeds")
    with kb.scope() as session:
        for source in ("../secrets", "/etc", "a/../../b"):
            checked = check_feed_form(session, {"name": "x", "source": source, "schedule": "60", "region_id": "1"},
                                      policy)
            assert any("下面" in problem for problem in checked.problems), source
        checked = check_feed_form(session, {"name": "x", "source": "http://10.0.0.5/p.csv", "schedule": "60",
                                            "region_id": "1"}, policy)
        assert any("不在本系统允许的范围内" in problem for problem in checked.problems)


async def test_two_schedulers_run_a_due_feed_once(kb, feed_server):
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD, {})
    policy = http_policy(feed_server)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")
    # Two gateway processes, each with its own connection pool.
    stores = [open_store(kb.url), open_store(kb.url)]
    try:
        # Both see the feed due before either claims it: the lease decides.
        seen = [store.run_blocking(lambda session: due_feeds(session, NOW)) for store in stores]
        assert seen[0] == seen[1] == [(feed_id, dt.datetime(2026, 11, 22, 0, 0))]
        due_at = seen[0][0][1]
        claims = [store.run_blocking(functools.partial(claim_feed, feed_id=feed_id, seen=due_at, now=NOW,
                                                       timezone=SHANGHAI, worker=f"gateway-{n}"))
                  for n, store in enumerate(stores)]
        assert [claim is not None for claim in claims] == [True, False]

        later = NOW + dt.timedelta(hours=2)
        results = await asyncio.gather(*(run(store, policy, now=later, worker=f"gateway-{n}")
                                         for n, store in enumerate(stores)))
    finally:
        for store in stores:
            store.dispose()
    assert sorted(len(reports) for reports in results) == [0, 1]
    assert feed_server.hits == ["/feeds/sjz.csv"]
    with kb.scope() as session:
        assert session.scalar(select(func.count(PriceFeedRun.id))) == 1
        assert session.scalar(select(func.count(ImportBatch.id))) == 1


async def test_undoing_a_feed_batch_restores_the_previous_prices(kb, store, feed_server):
    policy = http_policy(feed_server)
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD, {})
    add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")
    first = (await run(store, policy))[0]
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD.replace("1.18", "1.28"), {})  # a price that changed
    second = (await run(store, policy, now=NOW + dt.timedelta(hours=1)))[0]
    assert (first.outcome, second.outcome) == ("ok", "ok")
    today = dt.date(2026, 11, 22)
    with kb.scope() as session:
        assert latest_price(session, "玉米", "石家庄", today=today).quote.avg_price == Decimal("1.28")
    with kb.scope() as session:
        report = undo_batch(session, second.batch_id, "admin")
    assert report.ok and (report.removed, report.restored) == (0, 2)
    with kb.scope() as session:
        assert latest_price(session, "玉米", "石家庄", today=today).quote.avg_price == Decimal("1.18")


async def test_an_excel_feed_lands_and_failures_without_a_file_are_kept_within_bounds(kb, store, feed_server,
                                                                                      monkeypatch):
    workbook = openpyxl.Workbook()
    for line in GOOD.splitlines():
        workbook.active.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    excel = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    feed_server.routes["/feeds/daily"] = (200, buffer.getvalue(), {"Content-Type": excel})
    policy = http_policy(feed_server)
    feed_id = add_feed(kb, policy, feed_server.base + "/feeds/daily", schedule="every:5")
    [report] = await run(store, policy)
    assert (report.outcome, report.file_name, report.rows) == ("ok", "daily.xlsx", 2)

    monkeypatch.setattr(runner, "KEEP_RUNS", 2)
    feed_server.routes["/feeds/daily"] = (503, b"", {})
    for minutes in (6, 12, 18):
        await run(store, policy, now=NOW + dt.timedelta(minutes=minutes))
    outcome, runs = feed_state(kb, feed_id)
    assert outcome == "failed" and [run for run, _ in runs] == ["ok", "failed", "failed"]


@pytest.mark.parametrize(("address", "allowed"), [
    ("1.2.3.4", True), ("2400:3200::1", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),  # noqa: S104 (an address refused, not a bind)
    ("224.0.0.1", False),
    ("::1", False), ("fe80::1", False), ("fc00::1", False),
    ("::ffff:127.0.0.1", False), ("64:ff9b::7f00:1", False), ("2002:7f00:1::1", False),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo carrying 127.0.0.1
])
def test_only_public_addresses_unless_allowed(address, allowed):
    assert address_allowed(ipaddress.ip_address(address), FeedPolicy()) is allowed
    if not allowed and address in ("10.1.2.3", "::ffff:127.0.0.1"):
        networks = (ipaddress.ip_network("10.1.2.0/24"), ipaddress.ip_network("127.0.0.1/32"))
        assert address_allowed(ipaddress.ip_address(address), FeedPolicy(allowed_networks=networks))


async def test_a_typoed_price_in_a_feed_lands_nothing_and_says_why(kb, store, feed_server):
    policy = http_policy(feed_server)
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD, {})
    add_feed(kb, policy, feed_server.base + "/feeds/sjz.csv")
    await run(store, policy)
    feed_server.routes["/feeds/sjz.csv"] = (200, GOOD.replace("1.18", "11.8"), {})  # ten times the market
    report = (await run(store, policy, now=NOW + dt.timedelta(hours=1)))[0]
    assert report.outcome == "failed" and "implausible" in report.english[0]
    with kb.scope() as session:
        assert latest_price(session, "玉米", "石家庄", today=dt.date(2026, 11, 22)).quote.avg_price == Decimal("1.18")
