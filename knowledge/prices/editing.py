"""Changing single price records from the console: create, edit (the natural key too) and delete, audited.

Validation is knowledge.prices.validation.check_price, the same rules as the CLI import; this module
only decides which stored row a checked price lands in and records the before and after.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Tuple

from sqlalchemy.orm import Session

from knowledge.audit import record_change, snapshot
from knowledge.models import PriceRecord
from knowledge.prices.saving import record_values, save_price, stored_price
from knowledge.prices.validation import CheckedPrice

logger = logging.getLogger(__name__)

AUDITED_COLUMNS = (
    "product_id", "market_id", "report_date", "source", "min_price", "avg_price", "max_price", "entered_unit",
    "entered_min", "entered_avg", "entered_max", "confidence", "note", "entered_by",
)


class PriceConflictError(ValueError):
    """Another record already has this product, market, date and source; the message is plain Chinese."""


def price_snapshot(record: PriceRecord) -> Dict[str, Any]:
    """The audited columns of a price record, with the product and market names for people reading the log."""
    values = snapshot(record, AUDITED_COLUMNS)
    values["product"] = record.product.name if record.product is not None else None
    values["market"] = record.market.name if record.market is not None else None
    return values


def save_price_audited(session: Session, price: CheckedPrice, author: str) -> Tuple[PriceRecord, bool]:
    """save_price (insert, or update the record with the same key, as an import does) plus its audit entry."""
    existing = stored_price(session, price)
    before = price_snapshot(existing) if existing is not None else None
    new_market = price.market.id is None
    record, created = save_price(session, price, author)
    if new_market:
        record_change(session, author, "create", "market", price.market.id, None,
                      {"name": price.market.name, "region": price.market.region.name})
    record_change(session, author, "create" if created else "update", "price_record", record.id, before,
                  price_snapshot(record))
    return record, created


def update_price(session: Session, record: PriceRecord, price: CheckedPrice, author: str) -> PriceRecord:
    """Overwrite this record with a checked price (product, market, date or source may change). The caller commits."""
    clash = stored_price(session, price)
    if clash is not None and clash.id != record.id:
        raise PriceConflictError(
            f"已经有一条 {price.product.name}、{price.market.name}、{price.report_date.isoformat()}、"
            f"来源“{price.source}”的价格（编号 {clash.id}），请直接修改那一条"
        )
    before = price_snapshot(record)
    if price.market.id is None:
        session.add(price.market)
        session.flush()
        record_change(session, author, "create", "market", price.market.id, None,
                      {"name": price.market.name, "region": price.market.region.name})
    record.product = price.product
    record.market = price.market
    record.report_date = price.report_date
    record.source = price.source
    for name, value in record_values(price, author).items():
        setattr(record, name, value)
    session.flush()
    after = price_snapshot(record)
    if after != before:
        record_change(session, author, "update", "price_record", record.id, before, after)
    return record


def delete_price(session: Session, record: PriceRecord, actor: str) -> None:
    """Delete one price record, keeping its values in the audit log. The caller commits."""
    before = price_snapshot(record)
    record_id = record.id
    session.delete(record)
    session.flush()
    record_change(session, actor, "delete", "price_record", record_id, before, None)
    logger.info("Price record %d deleted by %s", record_id, actor)
