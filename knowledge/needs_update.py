"""What officers should bring up to date, most asked first: products and regions whose newest price is older
than PRICE_STALE_AFTER_DAYS, and articles past their year (a year-bound fact with no article for this year)
or their review date (Article.review_on). How often farmers asked comes from Rasa's tracker store, read only.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.articles.freshness import article_year
from knowledge.articles.years import fact_of
from knowledge.catalog.snapshot import catalog
from knowledge.conversations.tracker import TrackerReader
from knowledge.local_time import local_zone
from knowledge.models import Article, Market, PriceRecord, Product, Region, TopicAlias

# Farmers' questions of this many days count as "asked".
ASKED_DAYS = 90


@dataclass(frozen=True)
class StalePrice:
    """A product in a region whose newest price is too old, and how often farmers asked about the product."""

    product: str
    region: str
    newest: dt.date
    age_days: int
    asked: int


@dataclass(frozen=True)
class DueArticle:
    """A published article to check again, why (plain Chinese), and how often farmers asked about its topic."""

    article_id: int
    title: str
    reason: str
    asked: int


@dataclass
class NeedsUpdate:
    """The 需要更新 page: stale prices and due articles, each most asked first."""

    prices: List[StalePrice] = field(default_factory=list)
    articles: List[DueArticle] = field(default_factory=list)


def _asked_counts(session: Session, tracker: TrackerReader, today: dt.date, zone: dt.tzinfo):
    since = dt.datetime.combine(today - dt.timedelta(days=ASKED_DAYS), dt.time(), zone).timestamp()
    names = catalog(session).product_names()
    products: Counter = Counter()
    texts: List[str] = []
    for message in tracker.user_messages_since(since):
        texts.append(message.text)
        for entity in message.entities:
            value = str(entity.get("value") or "")
            if entity.get("entity") == "product" and value:
                products[names.get(value, value)] += 1
    return products, texts


def needs_update(
    session: Session, tracker: TrackerReader, today: dt.date, stale_after_days: int,
    region_ids: Optional[Set[int]] = None, zone: Optional[dt.tzinfo] = None,
) -> NeedsUpdate:
    """Stale prices and due articles (of `region_ids` only, for an officer; everything for None), most asked first."""
    products_asked, texts = _asked_counts(session, tracker, today, zone or local_zone())
    result = NeedsUpdate()

    newest = (
        select(Product.name, Region.name, func.max(PriceRecord.report_date))
        .join(PriceRecord, PriceRecord.product_id == Product.id)
        .join(Market, Market.id == PriceRecord.market_id)
        .join(Region, Region.id == Market.region_id)
        .group_by(Product.name, Region.name)
    )
    if region_ids is not None:
        newest = newest.where(Market.region_id.in_(region_ids))
    for product, region, date in session.execute(newest):
        age = (today - date).days
        if age > stale_after_days:
            result.prices.append(StalePrice(product, region, date, age, products_asked[product]))
    result.prices.sort(key=lambda item: (-item.asked, -item.age_days, item.product, item.region))

    aliases: Dict[str, List[str]] = {}
    for alias, topic in session.execute(select(TopicAlias.alias, TopicAlias.topic)):
        aliases.setdefault(topic, []).append(alias)
    articles = select(Article).where(Article.status == "published")
    if region_ids is not None:
        articles = articles.where(Article.region_id.in_(region_ids))
    rows = list(session.scalars(articles))
    newest_year: Dict[tuple, int] = {}
    for article in rows:
        year = article_year(article.title)
        if year is not None:
            key = (article.topic, fact_of(article.title))
            newest_year[key] = max(year, newest_year.get(key, year))
    for article in rows:
        reasons = []
        year = article_year(article.title)
        if year is not None and year < today.year and newest_year[(article.topic, fact_of(article.title))] == year:
            reasons.append(f"这是{year}年的标准，还没有{today.year}年的")
        if article.review_on is not None and article.review_on <= today:
            reasons.append(f"复核日期{article.review_on.isoformat()}已到")
        if reasons:
            words = [article.topic, *aliases.get(article.topic, [])]
            asked = sum(1 for text in texts if any(word and word in text for word in words))
            result.articles.append(DueArticle(article.id, article.title, "；".join(reasons), asked))
    result.articles.sort(key=lambda item: (-item.asked, item.title))
    return result
