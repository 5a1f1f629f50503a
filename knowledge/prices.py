"""Price queries written for the farmer's question: the latest price, where it is from, and how old it is."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from knowledge.lookup import ancestors, descendant_ids, find_market, find_product, find_region
from knowledge.models import Market, PriceRecord, Product, Region
from knowledge.units import DEFAULT_ASKED_UNIT, convert_price

# When several markets report on the same day, national and production-area figures answer a
# farmer's "how much" better than one city's wholesale market.
_KIND_PREFERENCE = case(
    (Market.kind == "全国均价", 0),
    (Market.kind == "产区均价", 1),
    (Market.kind == "批发市场", 2),
    else_=3,
)


@dataclass(frozen=True)
class PriceQuote:
    """One price record, converted into the unit the farmer asked for, with its provenance."""

    product: str
    market: str
    market_kind: str
    report_date: dt.date
    unit: str
    min_price: Optional[Decimal]
    avg_price: Optional[Decimal]
    max_price: Optional[Decimal]
    source: str
    confidence: str
    note: Optional[str]
    age_days: int


@dataclass(frozen=True)
class LatestPrice:
    """The answer to "X 多少钱": the quote, and which region it really covers."""

    quote: PriceQuote
    requested_region: Optional[str]
    # The region whose markets gave the answer; None means national (all markets).
    answered_region: Optional[str]

    @property
    def fell_back(self) -> bool:
        """True when the farmer named a region but the answer comes from a wider one."""
        return self.requested_region is not None and self.answered_region != self.requested_region


def _convert(value: Optional[Decimal], product: Product, unit: str) -> Optional[Decimal]:
    return None if value is None else convert_price(value, product.unit, unit)


def quote_from_record(record: PriceRecord, unit: str, today: dt.date) -> PriceQuote:
    """Turn a stored record into a quote in `unit`, with its age in days."""
    product = record.product
    return PriceQuote(
        product=product.name,
        market=record.market.name,
        market_kind=record.market.kind,
        report_date=record.report_date,
        unit=unit,
        min_price=_convert(record.min_price, product, unit),
        avg_price=_convert(record.avg_price, product, unit),
        max_price=_convert(record.max_price, product, unit),
        source=record.source,
        confidence=record.confidence,
        note=record.note,
        age_days=(today - record.report_date).days,
    )


def _newest_record(session: Session, product: Product, market_ids: Optional[List[int]]) -> Optional[PriceRecord]:
    query = select(PriceRecord).join(Market).where(PriceRecord.product_id == product.id)
    if market_ids is not None:
        query = query.where(PriceRecord.market_id.in_(market_ids))
    query = query.order_by(PriceRecord.report_date.desc(), _KIND_PREFERENCE, PriceRecord.id.desc()).limit(1)
    return session.scalars(query).first()


def _market_ids_in(session: Session, region: Region) -> List[int]:
    region_ids = descendant_ids(session, region)
    return list(session.scalars(select(Market.id).where(Market.region_id.in_(region_ids))).all())


def latest_price(
    session: Session,
    product_name: str,
    region_name: Optional[str] = None,
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
) -> Optional[LatestPrice]:
    """Newest price of a product, in a market or region if named, else falling back to wider regions, then national.

    Returns None when the product is unknown or has no price anywhere.
    """
    today = today or dt.date.today()
    product = find_product(session, product_name)
    if product is None:
        return None
    if region_name:
        market = find_market(session, region_name)
        if market is not None:
            record = _newest_record(session, product, [market.id])
            if record is not None:
                return LatestPrice(quote_from_record(record, unit, today), region_name, region_name)
        region = find_region(session, region_name)
        if region is not None:
            for scope in ancestors(region):
                if scope.parent_id is None:
                    break  # the root is 全国: answered below as national
                record = _newest_record(session, product, _market_ids_in(session, scope))
                if record is not None:
                    answered = region_name if scope.id == region.id else scope.name
                    return LatestPrice(quote_from_record(record, unit, today), region_name, answered)
    record = _newest_record(session, product, None)
    if record is None:
        return None
    return LatestPrice(quote_from_record(record, unit, today), region_name or None, None)


def products_with_prices(session: Session, limit: int = 5, category: Optional[str] = None) -> List[str]:
    """Names of products that do have prices (for "no data for X, but we have …"), same category first."""
    query = select(Product.name).where(Product.id.in_(select(PriceRecord.product_id).distinct()))
    if category:
        query = query.order_by(case((Product.category == category, 0), else_=1), Product.name)
    else:
        query = query.order_by(Product.name)
    return list(session.scalars(query.limit(limit)).all())
