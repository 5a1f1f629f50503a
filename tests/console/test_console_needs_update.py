"""需要更新 (issue 15): products and regions whose newest price is older than PRICE_STALE_AFTER_DAYS, articles past
their year or review date, most asked by farmers first (from the real tracker store), an officer's region only.

Expected before the fix: nothing told an officer that every seeded price was 398–791 days old.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from knowledge.catalog.lookup import find_region
from knowledge.conversations.tracker import TrackerReader
from knowledge.models import Article, Market, PriceRecord, Product
from knowledge.needs_update import needs_update
from scripts.demo_knowledge import TODAY
from tests.console.conftest import sign_in
from tests.console.test_console_knowledge import ARTICLE


def test_stale_prices_and_due_articles_most_asked_first(knowledge, tracker_path) -> None:
    reader = TrackerReader(f"sqlite:///{tracker_path}")
    try:
        with knowledge() as session:
            subsidy = session.scalars(select(Article).where(Article.title == "耕地地力保护补贴每亩多少钱")).one()
            subsidy.review_on = TODAY - dt.timedelta(days=1)
            session.flush()
            found = needs_update(session, reader, TODAY, stale_after_days=7)
            session.rollback()
    finally:
        reader.close()
    # The demo tracker's farmers asked "玉米多少钱一斤" once (and "俺家粮补咋还没到": 粮补 is 耕地地力保护补贴).
    assert (found.prices[0].product, found.prices[0].region, found.prices[0].asked) == ("玉米", "全国", 1)
    assert found.prices[0].newest == dt.date(2024, 9, 30) and found.prices[0].age_days == 783
    assert all(item.asked == 0 for item in found.prices[1:]) and len(found.prices) > 20
    assert ("大白菜", "丰台区") in {(item.product, item.region) for item in found.prices}
    reasons = {item.title: (item.reason, item.asked) for item in found.articles}
    assert found.articles[0].title == "耕地地力保护补贴每亩多少钱"
    assert reasons["耕地地力保护补贴每亩多少钱"] == (f"复核日期{(TODAY - dt.timedelta(days=1)).isoformat()}已到", 1)
    assert reasons["2025年稻谷最低收购价（未核实）"] == ("这是2025年的标准，还没有2026年的", 0)
    assert reasons["城乡居民医保一年交多少钱（2024年通知）"][0] == "这是2024年的标准，还没有2026年的"
    # A newer year's article exists: the older one is not due.
    assert "2024年稻谷最低收购价" not in reasons and "2025年和2026年小麦最低收购价" not in reasons


async def test_the_page_shows_an_officer_only_their_regions_prices(client, knowledge) -> None:
    with knowledge() as session:
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        market = Market(name="藁城区玉米收购点", region=find_region(session, "藁城区"), kind="收购点")
        session.add(PriceRecord(product=corn, market=market, report_date=dt.date(2026, 1, 5), avg_price=2.2,
                                entered_unit="元/公斤", entered_avg=2.2, source="藁城区农业农村局"))
        session.commit()
    await sign_in(client, "gaocheng")
    page = await (await client.get("/needs-update")).text()
    assert "<h1>需要更新</h1>" in page and "藁城区" in page and "2026-01-05" in page
    assert "丰台区" not in page and "大白菜" not in page
    await sign_in(client, "admin")
    page = await (await client.get("/needs-update")).text()
    assert "丰台区" in page and "2025年稻谷最低收购价（未核实）" in page


async def test_an_officer_sets_a_review_date_and_the_article_is_listed_once_it_is_due(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    response = await client.post("/articles", data={**ARTICLE, "review_on": "2026-01-01", "csrf_token": token},
                                 allow_redirects=False)
    assert response.status == 302
    with knowledge() as session:
        article = session.scalars(select(Article).where(Article.title == ARTICLE["title"])).one()
        assert article.review_on == dt.date(2026, 1, 1)
    page = await (await client.get("/needs-update")).text()
    assert ARTICLE["title"] in page and "复核日期2026-01-01已到" in page
    bad = await client.post(f"/articles/{article.id}", data={**ARTICLE, "review_on": "明年", "csrf_token": token})
    assert "复核日期" in await bad.text()
