"""Load the shipped seed data (knowledge/seed/*.yml) into the knowledge DB.

Seeding only adds what is missing, by natural key, so it runs on every `make setup` without
ever overwriting what officers have since edited.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.articles.entry import article_input, check_article, save_article
from knowledge.catalog.divisions import load_divisions
from knowledge.catalog.lookup import find_region
from knowledge.local_time import local_today
from knowledge.models import Article, Market, PriceRecord, Product, ProductAlias, Region, TopicAlias
from knowledge.prices.lookup_cache import LookupCache
from knowledge.prices.saving import save_price
from knowledge.prices.validation import PriceInput, check_price

logger = logging.getLogger(__name__)
SEED_DIR = Path(__file__).resolve().parent / "seed"
SEED_AUTHOR = "seed"


class SeedError(RuntimeError):
    """The shipped seed data is inconsistent (a bug in the repository, not user input)."""


@dataclass
class SeedReport:
    """How many rows of each kind the seed added."""

    regions: int = 0
    divisions: int = 0
    products: int = 0
    aliases: int = 0
    markets: int = 0
    prices: int = 0
    articles: int = 0
    topic_aliases: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name} +{count}" for name, count in vars(self).items())


def _load(name: str) -> Any:
    with (SEED_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _seed_region(session: Session, node: Dict[str, Any], parent: Optional[Region], report: SeedReport) -> None:
    region = session.scalars(
        select(Region).where(Region.name == node["name"], Region.parent_id == (parent.id if parent else None))
    ).first()
    if region is None:
        region = Region(name=node["name"], short_name=node.get("short_name"), level=node["level"], parent=parent)
        session.add(region)
        session.flush()
        report.regions += 1
    for child in node.get("children") or []:
        _seed_region(session, child, region, report)


def _seed_products(session: Session, report: SeedReport) -> None:
    for item in _load("products.yml"):
        product = session.scalars(select(Product).where(Product.name == item["name"])).first()
        if product is None:
            product = Product(name=item["name"], category=item["category"], unit=item.get("unit", "元/公斤"))
            session.add(product)
            session.flush()
            report.products += 1
        for alias in item.get("aliases") or []:
            if session.scalars(select(ProductAlias).where(ProductAlias.alias == alias)).first() is None:
                session.add(ProductAlias(product=product, alias=alias))
                report.aliases += 1
    session.flush()


def _seed_markets(session: Session, report: SeedReport) -> None:
    for item in _load("markets.yml"):
        if session.scalars(select(Market).where(Market.name == item["name"])).first() is not None:
            continue
        region = find_region(session, item["region"])
        if region is None:
            raise SeedError(f"markets.yml: unknown region {item['region']!r} for market {item['name']!r}")
        session.add(Market(name=item["name"], region=region, kind=item["kind"], scope=item.get("scope", "local")))
        report.markets += 1
    session.flush()


def _seed_prices(session: Session, report: SeedReport, today: dt.date) -> None:
    existing = {
        (product_id, market_id, date, source)
        for product_id, market_id, date, source in session.execute(
            select(PriceRecord.product_id, PriceRecord.market_id, PriceRecord.report_date, PriceRecord.source)
        )
    }
    cache = LookupCache(session)
    for number, item in enumerate(_load("prices.yml"), start=1):
        check = check_price(
            session,
            PriceInput(
                product=item["product"],
                market=item["market"],
                date=item["date"],
                unit=item["unit"],
                source=item["source"],
                min_price=item.get("min"),
                avg_price=item.get("avg"),
                max_price=item.get("max"),
                confidence=item.get("confidence", "V"),
                note=item.get("note"),
            ),
            today=today,
            cache=cache,
        )
        if check.price is None:
            raise SeedError(f"prices.yml entry {number} is invalid: {'; '.join(check.errors)}")
        price = check.price
        key = (price.product.id, price.market.id, price.report_date, price.source)
        if key in existing:
            continue
        save_price(session, price, author=SEED_AUTHOR)
        report.prices += 1


def _seed_articles(session: Session, report: SeedReport, today: dt.date) -> None:
    path = SEED_DIR / "articles.yml"
    if not path.exists():
        return
    data = _load("articles.yml") or {}
    for topic, aliases in (data.get("topic_aliases") or {}).items():
        for alias in aliases:
            if session.scalars(select(TopicAlias).where(TopicAlias.alias == alias)).first() is None:
                session.add(TopicAlias(alias=alias, topic=topic))
                report.topic_aliases += 1
    for number, item in enumerate(data.get("articles") or [], start=1):
        found = session.scalars(
            select(Article.id).where(Article.topic == item["topic"], Article.title == item["title"])
        ).first()
        if found is not None:
            continue
        check = check_article(session, article_input(item), today=today)
        if check.article is None:
            reasons = "; ".join(check.errors)
            raise SeedError(f"articles.yml entry {number} ({item.get('title')!r}) is invalid: {reasons}")
        # save_article also indexes the article for search, in this same transaction.
        save_article(session, check.article, author=SEED_AUTHOR)
        report.articles += 1
    session.flush()


def seed(session: Session, today: Optional[dt.date] = None) -> SeedReport:
    """Add every missing seed row; the caller commits."""
    report = SeedReport()
    # Products first: no place alias may be a product name. The national divisions before regions.yml, so a
    # region an older seed placed elsewhere (寿光市 directly under 山东省) is moved by its code, not duplicated.
    _seed_products(session, report)
    report.divisions = load_divisions(session).added
    _seed_region(session, _load("regions.yml"), None, report)
    _seed_markets(session, report)
    today = today or local_today()
    _seed_prices(session, report, today)
    _seed_articles(session, report, today)
    return report
