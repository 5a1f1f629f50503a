"""The in-memory catalog of names: answers as the database lookups do, and is never stale.

Staleness is tested the way it happens in production: one process (here, one engine) has the
catalog in memory while another writes to the database.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from knowledge.catalog.lookup import find_market, find_product, find_region
from knowledge.catalog.snapshot import catalog
from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.models import Market, Product, ProductAlias, Region
from knowledge.prices.queries import latest_price


def _token(session) -> int:
    return session.scalar(text("SELECT token FROM catalog_version"))


def test_catalog_answers_every_seeded_name_as_the_database_lookups_do(kb):
    with kb.scope() as session:
        names = catalog(session)
        products = session.scalars(select(Product.name)).all()
        aliases = session.scalars(select(ProductAlias.alias)).all()
        for name in [*products, *aliases, "没有这个东西"]:
            expected = find_product(session, name)
            found = names.product(name)
            assert (found.id if found else None) == (expected.id if expected else None), name
        regions = session.execute(select(Region.name, Region.short_name)).all()
        for name in {form for row in regions for form in row if form} | {"河北省", "石家庄市", "火星"}:
            expected = find_region(session, name)
            found = names.region(name)
            assert (found.id if found else None) == (expected.id if expected else None), name
        for market_name in session.scalars(select(Market.name)).all():
            for asked in (market_name, market_name[:4], market_name[2:6]):
                expected = find_market(session, asked)
                found = names.market(asked)
                assert (found.id if found else None) == (expected.id if expected else None), asked


def test_region_chain_and_markets_below_each_region(kb):
    with kb.scope() as session:
        names = catalog(session)
        county = names.region("藁城区")
        assert [r.level for r in names.region_chain(county)] == ["county", "city", "province", "country"]
        markets = session.scalars(select(Market)).all()
        non_empty = 0
        for region in session.scalars(select(Region)).all():
            below = {market.id for market in markets
                     if any(r.id == region.id for r in _region_chain(session, market.region_id))}
            assert set(names.market_ids_in(names.region_with_id(region.id))) == below, region.name
            non_empty += bool(below) and region.parent_id is not None
        assert non_empty >= 3


def _region_chain(session, region_id):
    region = session.get(Region, region_id)
    while region is not None:
        yield region
        region = region.parent


@pytest.mark.parametrize("table", ["product", "product_alias", "region", "market"])
def test_every_write_to_a_catalog_table_changes_the_token(kb, table):
    statements = {
        "product": ("INSERT INTO product (name, category, unit, created_at, updated_at, updated_by) "
                    "VALUES ('试验菜', '蔬菜', '元/公斤', '2026-11-22', '2026-11-22', 't')",
                    "UPDATE product SET category = '水果' WHERE name = '试验菜'",
                    "DELETE FROM product WHERE name = '试验菜'"),
        "product_alias": ("INSERT INTO product_alias (product_id, alias) SELECT id, '试验名' FROM product "
                          "WHERE name = '玉米'",
                          "UPDATE product_alias SET alias = '试验名二' WHERE alias = '试验名'",
                          "DELETE FROM product_alias WHERE alias = '试验名二'"),
        "region": ("INSERT INTO region (name, level, parent_id, created_at, updated_at, updated_by) "
                   "SELECT '试验村', 'village', id, '2026-11-22', '2026-11-22', 't' FROM region WHERE name = '藁城区'",
                   "UPDATE region SET short_name = '试验' WHERE name = '试验村'",
                   "DELETE FROM region WHERE name = '试验村'"),
        "market": ("INSERT INTO market (name, region_id, kind, created_at, updated_at, updated_by) "
                   "SELECT '试验集市', id, '集市', '2026-11-22', '2026-11-22', 't' FROM region WHERE name = '藁城区'",
                   "UPDATE market SET kind = '收购点' WHERE name = '试验集市'",
                   "DELETE FROM market WHERE name = '试验集市'"),
    }
    for statement in statements[table]:
        with kb.scope() as session:
            before = _token(session)
            assert session.execute(text(statement)).rowcount == 1
        with kb.scope() as session:
            assert _token(session) != before, statement


def test_a_name_another_process_adds_is_known_at_once(kb, today):
    # This engine stands for the action server: it has the catalog in memory.
    with kb.scope() as session:
        assert catalog(session).product("试验瓜") is None
        assert latest_price(session, "玉米", "藁城区", today=today).answered_region != "藁城区"
    # Another process (the console, psql) adds an alias, a county market and its price.
    other = make_engine(kb.url)
    try:
        with session_scope(make_session_factory(other)) as session:
            writes = [
                ("INSERT INTO product_alias (product_id, alias) SELECT id, '试验瓜' FROM product WHERE name = '玉米'",
                 {}),
                ("INSERT INTO market (name, region_id, kind, created_at, updated_at, updated_by) "
                 "SELECT '藁城试验收购点', id, '收购点', :day, :day, 't' FROM region WHERE name = '藁城区'",
                 {"day": today}),
                ("INSERT INTO price_record (product_id, market_id, report_date, avg_price, entered_unit, "
                 "entered_avg, source, confidence, entered_by, created_at, updated_at, updated_by) "
                 "SELECT p.id, m.id, :day, 2.5, '元/公斤', 2.5, '试验', 'V', 't', :day, :day, 't' "
                 "FROM product p, market m WHERE p.name = '玉米' AND m.name = '藁城试验收购点'", {"day": today}),
            ]
            for statement, parameters in writes:
                assert session.execute(text(statement), parameters).rowcount == 1
    finally:
        other.dispose()
    with kb.scope() as session:
        assert catalog(session).product("试验瓜").name == "玉米"
        answer = latest_price(session, "试验瓜", "藁城区", today=today)
        assert (answer.answered_region, answer.quote.market) == ("藁城区", "藁城试验收购点")


def test_an_uncommitted_name_is_seen_by_its_own_session_and_forgotten_on_rollback(kb):
    session = kb.session()
    try:
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        session.add(ProductAlias(product=corn, alias="试验名"))
        assert catalog(session).product("试验名").name == "玉米"
        session.rollback()
        assert catalog(session).product("试验名") is None
    finally:
        session.close()
    with kb.scope() as session:
        assert catalog(session).product("试验名") is None
