"""Region semantics of price answers (issue 15): 全国 only for a national figure, a local market named as local,
several markets as 多地参考 with their coverage, wider regions named with their level, places compared with
places on comparable dates, trends saying up / down / flat with the change.

Expected outcomes written before the fix, from the issue's examples:
- a price entered for one 藁城 market answers a farmer in 黑龙江 as that market's price ("…的价格，仅供参考")
  or with the national figure when there is one, never as "全国的数据";
- records in three provinces answer as "多地参考（3省5个市场，11月20日至28日）";
- "郑州和石家庄哪里的白菜便宜" answers with 郑州's and 石家庄's own markets, never 新发地;
- "石家庄生猪最近涨了没" says 涨了 with the change, from 石家庄's market.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, text

from knowledge import migrate
from knowledge.catalog.lookup import find_region
from knowledge.cli import main
from knowledge.models import AuditLog, Region
from knowledge.prices.queries import compare_markets, compare_places, latest_price, price_trend
from tests.knowledge.test_knowledge_prices import add_price
from wording import (
    comparison_values,
    place_comparison_values,
    price_messages,
    region_fallback_values,
    response_text,
    trend_values,
)

NOW = dt.date(2026, 11, 30)


def _said(answer) -> str:
    return "".join(response_text(name, **values) for name, values in price_messages(answer))


def _potatoes_in_three_provinces(session) -> None:
    add_price(session, NOW, "土豆", "石家庄桥西市场", "2026-11-20", avg="0.80", region="石家庄")
    add_price(session, NOW, "土豆", "郑州万邦市场", "2026-11-25", avg="0.90", region="郑州")
    add_price(session, NOW, "土豆", "郑州陈砦市场", "2026-11-26", avg="1.00", region="郑州")
    add_price(session, NOW, "土豆", "寿光农产品物流园", "2026-11-28", avg="0.70", region="寿光")
    add_price(session, NOW, "土豆", "寿光蔬菜批发市场", "2026-11-27", avg="0.60", region="寿光")
    # A fourth province, but weeks older than the rest: not of comparable date, not counted.
    add_price(session, NOW, "土豆", "成都蒙阳市场", "2026-10-30", avg="2.00", region="成都")


def test_records_in_three_provinces_answer_as_an_aggregate_with_its_coverage_never_as_national(kb):
    with kb.scope() as session:
        _potatoes_in_three_provinces(session)
    with kb.scope() as session:
        answer = latest_price(session, "土豆", "黑龙江", today=NOW)
        unplaced = latest_price(session, "土豆", today=NOW)
    assert answer.basis == "several" and answer.answered_region is None and answer.fell_back
    assert answer.coverage.markets == 5
    assert answer.coverage.provinces == ("山东省", "河北省", "河南省")
    assert (answer.coverage.first_date, answer.coverage.last_date) == (dt.date(2026, 11, 20), dt.date(2026, 11, 28))
    assert (answer.quote.min_price, answer.quote.avg_price, answer.quote.max_price) == (
        Decimal("0.60"), Decimal("0.8000"), Decimal("1.00"))
    said = _said(answer)
    assert said.startswith("黑龙江暂时没有土豆的价格，下面是其他地区的数据。土豆：均价0.80元/斤（0.60–1.00）")
    assert "多地参考（3省5个市场，11月20日至28日）" in said
    assert "全国的数据" not in said and "（全国）" not in said
    # Without a region: the same aggregate, and no fallback sentence.
    assert _said(unplaced).startswith("土豆：均价0.80元/斤（0.60–1.00），多地参考（3省5个市场，11月20日至28日）")


def test_a_village_price_is_never_national(kb):
    with kb.scope() as session:
        county = find_region(session, "藁城")
        session.add(Region(name="岗上村", level="village", parent=county))
    with kb.scope() as session:
        add_price(session, NOW, "土豆", "岗上村收购点", "2026-11-28", low="1.08", high="1.15", region="岗上村")
        # The case: an officer's 玉米 at a new 藁城 market, newer than every national record.
        add_price(session, NOW, "玉米", "藁城区玉米收购点", "2026-11-28", low="1.08", high="1.15", region="藁城")
    with kb.scope() as session:
        nowhere = latest_price(session, "土豆", today=NOW)
        far = latest_price(session, "土豆", "黑龙江", today=NOW)
        corn_far = latest_price(session, "玉米", "黑龙江", today=NOW)
        corn_home = latest_price(session, "玉米", "藁城", today=NOW)
        corn_unplaced = latest_price(session, "玉米", today=NOW)
        cheapest = compare_markets(session, "土豆", today=NOW)
    for answer in (nowhere, far):
        assert answer.basis == "local" and answer.answered_region is None
        said = _said(answer)
        assert "岗上村收购点的价格，仅供参考" in said and "全国" not in said
    assert region_fallback_values(far)["scope_name"] == "其他地区"
    # 黑龙江 gets the national figure (a national market's record), named 全国; never 藁城's market.
    assert corn_far.basis == "national" and corn_far.quote.market == "玉米主产区批发市场"
    assert _said(corn_far).startswith("黑龙江暂时没有玉米的价格，下面是全国的数据。玉米（全国）：")
    assert corn_unplaced.quote.market == "玉米主产区批发市场"
    assert corn_home.basis == "local" and "藁城区玉米收购点的价格，仅供参考" in _said(corn_home)
    # One market is nothing to compare: no highest, lowest or national reference.
    assert cheapest.highest is None and cheapest.lowest is None and not cheapest.national_is_national
    values = comparison_values(cheapest)
    assert values["extremes"] == "只有1个市场有相近日期的数据，比不出高低。"
    assert values["reference"] == "" and "全国" not in response_text("utter_price_comparison", **values)


def test_a_wider_region_with_several_markets_answers_as_their_aggregate_and_names_its_level(kb):
    with kb.scope() as session:
        add_price(session, NOW, "土豆", "石家庄桥西市场", "2026-11-27", avg="0.80", region="石家庄")
        add_price(session, NOW, "土豆", "邯郸蔬菜批发市场", "2026-11-28", avg="0.60", region="邯郸")
    with kb.scope() as session:
        answer = latest_price(session, "土豆", "保定", today=NOW)
    assert answer.basis == "several" and answer.answered_region == "河北省" and answer.answered_level == "province"
    said = _said(answer)
    assert said.startswith("保定暂时没有土豆的价格，下面是河北省（省级）的数据。土豆（河北省）：均价0.70元/斤")
    assert "多地参考（河北省2个市场，11月27日至28日）" in said


def test_places_are_compared_with_their_own_markets_on_comparable_dates(kb):
    with kb.scope() as session:
        add_price(session, NOW, "大白菜", "郑州万邦市场", "2026-11-26", avg="0.60", region="郑州")
        add_price(session, NOW, "大白菜", "郑州陈砦市场", "2026-11-27", avg="0.70", region="郑州")
        add_price(session, NOW, "大白菜", "石家庄桥西市场", "2026-11-28", avg="0.55", region="石家庄")
    with kb.scope() as session:
        comparison = compare_places(session, "白菜", ["郑州", "石家庄"], today=NOW)
    zhengzhou, shijiazhuang = comparison.places
    assert comparison.comparable
    assert zhengzhou.price == Decimal("0.6500") and zhengzhou.coverage.markets == 2
    assert shijiazhuang.price == Decimal("0.55") and shijiazhuang.coverage.markets == 1
    assert comparison.cheapest is shijiazhuang and comparison.dearest is zhengzhou
    said = response_text("utter_price_place_comparison", **place_comparison_values(comparison))
    assert said == ("大白菜：\n郑州：均价0.65元/斤（河南省2个市场，11月26日至27日）\n"
                    "石家庄：均价0.55元/斤（河北省1个市场，11月28日）\n石家庄便宜，每斤比郑州低0.10元。")
    assert "新发地" not in said


def test_places_whose_prices_are_far_apart_in_time_are_not_ranked(kb):
    with kb.scope() as session:
        add_price(session, NOW, "大白菜", "郑州万邦市场", "2026-10-01", avg="0.60", region="郑州")
        add_price(session, NOW, "大白菜", "石家庄桥西市场", "2026-11-28", avg="0.55", region="石家庄")
    with kb.scope() as session:
        comparison = compare_places(session, "白菜", ["郑州", "石家庄"], today=NOW)
        seeded_only = compare_places(session, "白菜", ["广西", "四川"], today=NOW)
    assert not comparison.comparable and comparison.cheapest is None
    assert "没法直接比较" in place_comparison_values(comparison)["verdict"]
    # Neither place has cabbage: 新发地 (Beijing) answers for neither.
    assert [figure.price for figure in seeded_only.places] == [None, None]
    assert place_comparison_values(seeded_only)["verdict"] == "这几个地方都还没有数据，没法比较。"


def test_a_trend_for_a_city_says_up_with_the_change_from_that_citys_market(kb):
    with kb.scope() as session:
        for day, price in ((20, "5.80"), (24, "5.90"), (28, "6.10")):
            add_price(session, NOW, "生猪", "石家庄生猪收购点", f"2026-11-{day}", avg=price, region="石家庄")
    with kb.scope() as session:
        trend = price_trend(session, "生猪", "石家庄", today=NOW)
        national = price_trend(session, "生猪", "广西", today=NOW)
    assert trend.answered_region == "石家庄" and trend.direction == "up" and not trend.fell_back
    values = trend_values(trend)
    assert values["movement"] == "涨了0.30元/斤（5.2%）"
    assert values["market"] == "石家庄生猪收购点一个市场的价格，仅供参考"
    assert response_text("utter_price_trend", **values).startswith(
        "生猪（石家庄）：2026-11-20为5.80元/斤，2026-11-28为6.10元/斤，涨了0.30元/斤（5.2%）")
    # 广西 has its own regional average: answered for 广西, not from 石家庄's market.
    assert national.answered_region == "广西" and national.market == "广西生猪收购均价"


def test_the_migration_gives_existing_markets_their_scope(empty_db):
    migrate.upgrade(empty_db.engine, "0008_personal_data")
    with empty_db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO region (id, name, level, parent_id, created_at, updated_at, updated_by) VALUES "
            "(1, '全国', 'country', NULL, '2026-01-01', '2026-01-01', 's'), "
            "(2, '河北省', 'province', 1, '2026-01-01', '2026-01-01', 's')"))
        rows = [(1, "全国农产品批发市场均价", 1, "全国均价"), (2, "玉米主销区批发市场", 1, "批发市场"),
                (3, "河北生猪收购均价", 2, "收购点"), (4, "藁城区玉米收购点", 2, "收购点"),
                (5, "某信息员放在全国的市场", 1, "批发市场")]
        for row in rows:
            connection.execute(text(
                "INSERT INTO market (id, name, region_id, kind, created_at, updated_at, updated_by) "
                "VALUES (:id, :name, :region, :kind, '2026-01-01', '2026-01-01', 's')"),
                dict(zip(("id", "name", "region", "kind"), row, strict=True)))
    migrate.upgrade(empty_db.engine)
    with empty_db.engine.connect() as connection:
        scopes = dict(connection.execute(text("SELECT name, scope FROM market")).all())
    assert scopes == {"全国农产品批发市场均价": "national", "玉米主销区批发市场": "national",
                      "河北生猪收购均价": "regional", "藁城区玉米收购点": "local", "某信息员放在全国的市场": "local"}


def test_an_admin_marks_a_market_national_on_the_command_line_and_it_is_audited(kb, capsys):
    with kb.scope() as session:
        add_price(session, NOW, "土豆", "全国马铃薯批发均价", "2026-11-28", avg="0.90", region="全国")
        add_price(session, NOW, "土豆", "石家庄桥西市场", "2026-11-27", avg="0.80", region="石家庄")
    with kb.scope() as session:
        # A market an officer put on 全国 is still one local market until an admin says otherwise.
        assert latest_price(session, "土豆", today=NOW).basis == "several"
    assert main(["--db", kb.url, "market-scope", "全国马铃薯批发均价", "national", "--actor", "admin"]) == 0
    assert "全国马铃薯批发均价 的价格为 全国数据" in capsys.readouterr().out
    with kb.scope() as session:
        answer = latest_price(session, "土豆", today=NOW)
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "market")).all()
    assert answer.basis == "national" and _said(answer).startswith("土豆（全国）：均价0.90元/斤")
    assert [(entry.actor, entry.before, entry.after) for entry in audit] == [
        ("admin", '{"scope": "local"}', '{"scope": "national"}')]
    assert main(["--db", kb.url, "market-scope", "没有这个市场", "national"]) == 1
