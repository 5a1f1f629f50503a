"""Saving one checked price: insert, or update in place the record with the same (product, market, date, source)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.units import convert_price
from knowledge.models import PriceRecord
from knowledge.prices.validation import CheckedPrice


def stored_price(session: Session, price: CheckedPrice) -> Optional[PriceRecord]:
    """The stored record with the same (product, market, date, source) as `price`, if any."""
    if price.market.id is None:
        return None  # a market the entry names for the first time has no prices yet
    return session.scalars(
        select(PriceRecord).where(
            PriceRecord.product_id == price.product.id,
            PriceRecord.market_id == price.market.id,
            PriceRecord.report_date == price.report_date,
            PriceRecord.source == price.source,
        )
    ).first()


def save_price(session: Session, price: CheckedPrice, author: str) -> Tuple[PriceRecord, bool]:
    """Insert the price, or update in place the record with the same (product, market, date, source).

    Returns the record and whether it was newly created. The caller owns the transaction.
    """
    if price.market.id is None:
        session.add(price.market)
        session.flush()
    record = stored_price(session, price)
    created = record is None
    if record is None:
        record = PriceRecord(
            product=price.product, market=price.market, report_date=price.report_date, source=price.source
        )
        session.add(record)

    for name, value in record_values(price, author).items():
        setattr(record, name, value)
    session.flush()
    return record, created


# The columns an import may overwrite; the natural key (product, market, date, source) never changes.
VALUE_COLUMNS = (
    "min_price", "avg_price", "max_price", "entered_unit", "entered_min", "entered_avg", "entered_max",
    "confidence", "note", "entered_by", "updated_by",
)


def record_values(price: CheckedPrice, author: str) -> Dict[str, Any]:
    """The stored columns for a checked price: canonical-unit figures, the figures as entered, and the author."""
    def canonical(value: Optional[Decimal]) -> Optional[Decimal]:
        return None if value is None else convert_price(value, price.unit, price.product.unit)

    return {
        "min_price": canonical(price.min_price),
        "avg_price": canonical(price.avg_price),
        "max_price": canonical(price.max_price),
        "entered_unit": price.unit,
        "entered_min": price.min_price,
        "entered_avg": price.avg_price,
        "entered_max": price.max_price,
        "confidence": price.confidence,
        "note": price.note,
        "entered_by": author,
        "updated_by": author,
    }
