"""Saving many checked prices at once (imports): bulk inserts and updates keyed on (product, market, date, source)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, and_, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from knowledge.models import PriceRecord, utcnow
from knowledge.prices.postgres_copy import copy_price_rows
from knowledge.prices.saving import VALUE_COLUMNS, record_values
from knowledge.prices.validation import CheckedPrice

logger = logging.getLogger(__name__)


@dataclass
class PriceUpdate:
    """A stored record a batch overwrote: its id and the values before and after."""

    record_id: int
    before: Dict[str, Any]
    after: Dict[str, Any]


@dataclass
class BatchResult:
    """What save_prices wrote."""

    created: int = 0
    updated: int = 0
    new_markets: List[str] = field(default_factory=list)
    updates: List[PriceUpdate] = field(default_factory=list)


# The keys of one batch, in a per-connection temporary table joined to price_record through its
# unique index. A row-value "(product_id, market_id, report_date, source) IN (...)" looked simpler,
# but SQLite answers it by scanning the whole index: minutes per import at ten million records.
_BATCH_KEYS = Table(
    "price_batch_key",
    MetaData(),
    Column("n", Integer, nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("market_id", Integer, nullable=False),
    Column("report_date", Date, nullable=False),
    Column("source", String(128), nullable=False),
    prefixes=["TEMPORARY"],
)


def _existing_records(session: Session, keys: List[Tuple[int, int, dt.date, str]]) -> Dict[Tuple, Any]:
    """The stored records (id and value columns) among `keys`, by key."""
    if not keys:
        return {}
    connection = session.connection()
    _BATCH_KEYS.create(connection, checkfirst=True)
    connection.execute(_BATCH_KEYS.delete())
    connection.execute(_BATCH_KEYS.insert(), [
        {"n": n, "product_id": p, "market_id": m, "report_date": d, "source": s} for n, (p, m, d, s) in enumerate(keys)
    ])
    if connection.dialect.name == "postgresql":
        connection.execute(text("ANALYZE price_batch_key"))  # a fresh temp table has no statistics
    table = PriceRecord.__table__
    on = and_(
        table.c.product_id == _BATCH_KEYS.c.product_id,
        table.c.market_id == _BATCH_KEYS.c.market_id,
        table.c.report_date == _BATCH_KEYS.c.report_date,
        table.c.source == _BATCH_KEYS.c.source,
    )
    rows = connection.execute(
        select(_BATCH_KEYS.c.n, table.c.id, *(table.c[name] for name in VALUE_COLUMNS))
        .select_from(_BATCH_KEYS.join(table, on))
    )
    found = {keys[row.n]: row for row in rows}
    connection.execute(_BATCH_KEYS.delete())
    return found


def stored_records(session: Session, keys: List[Tuple[int, int, dt.date, str]]) -> Dict[Tuple, Any]:
    """The stored records (id and value columns) among the (product, market, date, source) `keys`, by key."""
    return _existing_records(session, keys)


def _write_chunk(session: Session, inserts: List[Dict[str, Any]], updates: List[Dict[str, Any]]) -> None:
    # One bulk statement per kind: the import's speed comes from here, not from the ORM unit of
    # work. On PostgreSQL, COPY writes a batch about three times faster than multi-row INSERTs.
    table = PriceRecord.__table__
    if inserts and session.get_bind().dialect.name == "postgresql":
        copy_price_rows(session, inserts)
    elif inserts:
        session.execute(insert(table), inserts)
    if updates:
        statement = (
            update(table)
            .where(table.c.id == bindparam("record_id"))
            .values({name: bindparam(name) for name in (*VALUE_COLUMNS, "updated_at")})
        )
        session.execute(statement, updates)


def save_prices(
    session: Session, prices: Sequence[CheckedPrice], author: str, chunk_size: int = 2000
) -> BatchResult:
    """Insert many checked prices at once, updating in place those whose (product, market, date, source) exists.

    The bulk form of save_price for imports; a later entry with the same key wins. The caller owns
    the transaction, so a failure part-way leaves nothing once it rolls back.
    """
    result = BatchResult()
    for market in {id(price.market): price.market for price in prices if price.market.id is None}.values():
        session.add(market)
        result.new_markets.append(market.name)
    session.flush()

    latest: Dict[Tuple[int, int, dt.date, str], CheckedPrice] = {}
    for price in prices:
        latest[(price.product.id, price.market.id, price.report_date, price.source)] = price
    # In key order, so inserts walk the unique index (product, market, date, source) in order
    # instead of touching a random page of a ten-million-row index for every row.
    keys = sorted(latest)
    existing = _existing_records(session, keys)
    now = utcnow()
    for start in range(0, len(keys), chunk_size):
        chunk = keys[start : start + chunk_size]
        inserts: List[Dict[str, Any]] = []
        updates: List[Dict[str, Any]] = []
        for key in chunk:
            values = record_values(latest[key], author)
            row = existing.get(key)
            if row is None:
                product_id, market_id, report_date, source = key
                inserts.append({
                    "product_id": product_id, "market_id": market_id, "report_date": report_date,
                    "source": source, "created_at": now, "updated_at": now, **values,
                })
            else:
                updates.append({"record_id": row.id, "updated_at": now, **values})
                before = {name: getattr(row, name) for name in VALUE_COLUMNS}
                result.updates.append(PriceUpdate(row.id, before, values))
        _write_chunk(session, inserts, updates)
        result.created += len(inserts)
        result.updated += len(updates)
    logger.info("Saved %d prices (%d new, %d updated) for %s", len(keys), result.created, result.updated, author)
    return result
