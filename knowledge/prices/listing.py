"""Prices as officers browse them in the console: search by product or market, filters, pages; one record by id."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from knowledge.catalog.lookup import descendant_ids, find_product
from knowledge.models import Market, PriceRecord, Product, Region
from knowledge.paging import Page, fetch_page


def price_page(
    session: Session,
    words: str = "",
    region_id: Optional[int] = None,
    since: Optional[dt.date] = None,
    until: Optional[dt.date] = None,
    confidence: Optional[str] = None,
    number: int = 1,
    size: int = 50,
) -> Page:
    """Price records, newest report first, with product and market (and its region) loaded.

    `words` names a product (or an alias of one) or part of a market's name; `region_id` keeps the
    markets of that region and below; `since` and `until` are inclusive report dates.
    """
    statement = (
        select(PriceRecord)
        .join(Product, Product.id == PriceRecord.product_id)
        .join(Market, Market.id == PriceRecord.market_id)
        .options(joinedload(PriceRecord.product), joinedload(PriceRecord.market).joinedload(Market.region))
    )
    words = words.strip()
    if words:
        product = find_product(session, words)
        statement = statement.where(
            or_(Product.id == product.id, Market.name.contains(words, autoescape=True)) if product is not None
            else or_(Product.name.contains(words, autoescape=True), Market.name.contains(words, autoescape=True))
        )
    if region_id is not None:
        region = session.get(Region, region_id)
        if region is not None:
            statement = statement.where(Market.region_id.in_(descendant_ids(session, region)))
    if since:
        statement = statement.where(PriceRecord.report_date >= since)
    if until:
        statement = statement.where(PriceRecord.report_date <= until)
    if confidence:
        statement = statement.where(PriceRecord.confidence == confidence)
    return fetch_page(session, statement, [PriceRecord.report_date.desc(), Product.name, PriceRecord.id], number, size)


def price_record_by_id(session: Session, record_id: int) -> Optional[PriceRecord]:
    """The price record with this id, if any."""
    return session.get(PriceRecord, record_id)
