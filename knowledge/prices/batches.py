"""Imported price batches: what each price file that landed wrote and replaced, and undoing a batch as a whole.

Every import (console upload, `python -m knowledge import-prices`, a feed) records its batch in the same
transaction as its prices: for each record it wrote, the values it replaced (none when it created the
record) and a digest of the values it left. Undoing deletes the records the batch created and writes back
what it replaced, all or nothing. A record changed since (an officer's edit, a later import) makes the undo
refuse with the reasons, because writing back would silently throw that change away; undoing the later
batch first restores the values this batch left, so its own undo is possible again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from knowledge.audit import record_change, record_changes
from knowledge.db import count_changed_rows
from knowledge.models import ImportBatch, ImportBatchRecord, Market, PriceRecord, Product, utcnow
from knowledge.paging import Page, fetch_page
from knowledge.prices.bulk_saving import BatchResult, stored_records
from knowledge.prices.saving import VALUE_COLUMNS
from knowledge.prices.validation import CheckedPrice

logger = logging.getLogger(__name__)

NUMERIC_COLUMNS = ("min_price", "avg_price", "max_price", "entered_min", "entered_avg", "entered_max")
_CHUNK = 500


@dataclass(frozen=True)
class BatchOrigin:
    """Where a batch came from: the kind (console, file, feed), the file's name as people know it, and the feed."""

    kind: str
    name: str
    feed_id: Optional[int] = None


@dataclass
class UndoReport:
    """The outcome of undoing a batch: what was removed and restored, or every reason it was refused."""

    batch_id: int
    removed: int = 0
    restored: int = 0
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the batch was undone."""
        return not self.problems


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (Decimal, float)):
        # Canonical whatever the backend returns (SQLite floats, PostgreSQL Decimals of scale 4).
        return format(Decimal(str(value)).quantize(Decimal("0.0001")), "f")
    return str(value)


def _digest_part(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, (Decimal, float)):
        return f"{value:.4f}"  # the stored scale; the same backend always answers the same way
    return str(value)


def values_digest(row: Any) -> str:
    """A digest of a stored record's value columns (as the database returns them), to tell later whether
    anything changed them."""
    text = "\x1f".join([_digest_part(getattr(row, name)) for name in VALUE_COLUMNS])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_batch(
    session: Session, origin: BatchOrigin, author: str, prices: Sequence[CheckedPrice], result: BatchResult,
    rows: int,
) -> ImportBatch:
    """Record the batch `save_prices` just wrote (in the caller's transaction): each record, what it replaced."""
    keys = sorted({(price.product.id, price.market.id, price.report_date, price.source) for price in prices})
    stored = stored_records(session, keys)
    replaced = {change.record_id: change.before for change in result.updates}
    batch = ImportBatch(kind=origin.kind, feed_id=origin.feed_id, source_name=origin.name[:256], author=author,
                        created_at=utcnow(), rows=rows, created=result.created, updated=result.updated)
    session.add(batch)
    session.flush()
    entries = [
        {"batch_id": batch.id, "price_record_id": row.id, "after_digest": values_digest(row),
         "before": json.dumps({name: _plain(value) for name, value in replaced[row.id].items()}, ensure_ascii=False)
         if row.id in replaced else None}
        for row in stored.values()
    ]
    for start in range(0, len(entries), 5000):
        session.execute(insert(ImportBatchRecord.__table__), entries[start:start + 5000])
    return batch


def _restored_values(before: str) -> Dict[str, Any]:
    values: Dict[str, Any] = json.loads(before)
    return {name: (Decimal(value) if name in NUMERIC_COLUMNS and value is not None else value)
            for name, value in values.items()}


def _current_rows(session: Session, record_ids: List[int]) -> Dict[int, Any]:
    table = PriceRecord.__table__
    found: Dict[int, Any] = {}
    for start in range(0, len(record_ids), _CHUNK):
        query = (
            select(table.c.id, table.c.report_date, Product.name.label("product"), Market.name.label("market"),
                   *(table.c[name] for name in VALUE_COLUMNS))
            .join(Product, Product.id == table.c.product_id)
            .join(Market, Market.id == table.c.market_id)
            .where(table.c.id.in_(record_ids[start:start + _CHUNK]))
        )
        found.update({row.id: row for row in session.execute(query)})
    return found


def undo_batch(session: Session, batch_id: int, actor: str, now: Optional[dt.datetime] = None) -> UndoReport:
    """Undo a batch as a whole: delete what it created, write back what it replaced; audited.

    Refused, with every reason, when the batch is unknown or undone already, or when any of its records
    changed since. The caller owns the transaction and commits only when the report is ok.
    """
    now = now or utcnow()
    report = UndoReport(batch_id)
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        report.problems.append("没有这个导入批次")
        return report
    # Claimed first: of two people undoing the same batch at once, one wins and the other is told.
    claimed = count_changed_rows(session, update(ImportBatch)
                                 .where(ImportBatch.id == batch_id, ImportBatch.undone_at.is_(None))
                                 .values(undone_at=now, undone_by=actor[:64])
                                 .execution_options(synchronize_session=False))
    if claimed != 1:
        report.problems.append("这个批次已经撤销过了")
        return report
    entries = list(session.scalars(select(ImportBatchRecord).where(ImportBatchRecord.batch_id == batch_id)))
    current = _current_rows(session, [entry.price_record_id for entry in entries])
    removals: List[int] = []
    restores: List[Dict[str, Any]] = []
    audit_removed = []
    audit_restored = []
    for entry in entries:
        row = current.get(entry.price_record_id)
        if row is None:
            if entry.before is not None:
                report.problems.append(f"价格记录 #{entry.price_record_id} 导入后已被删除，无法恢复原来的数值")
            continue  # a record the batch created and someone deleted since: already undone
        if values_digest(row) != entry.after_digest:
            report.problems.append(f"{row.product}（{row.market}，{row.report_date.isoformat()}）导入后又被"
                                   f"“{row.updated_by}”改过；请先撤销之后的导入或改动")
            continue
        values_now = {name: _plain(getattr(row, name)) for name in VALUE_COLUMNS}
        if entry.before is None:
            removals.append(row.id)
            audit_removed.append((row.id, values_now, None))
        else:
            restored = _restored_values(entry.before)
            restores.append({"record_id": row.id, "updated_at": now, **restored})
            audit_restored.append((row.id, values_now, {name: _plain(value) for name, value in restored.items()}))
    if report.problems:
        logger.info("Undo of import batch %d by %s refused: %d records changed since", batch_id, actor,
                    len(report.problems))
        return report
    table = PriceRecord.__table__
    for start in range(0, len(removals), _CHUNK):
        session.execute(delete(table).where(table.c.id.in_(removals[start:start + _CHUNK])))
    if restores:
        # The restored records get a new updated_at, so the push scheduler tells subscribers the price changed back.
        session.execute(
            update(table).where(table.c.id == bindparam("record_id"))
            .values({name: bindparam(name) for name in (*VALUE_COLUMNS, "updated_at")}),
            restores,
        )
    report.removed, report.restored = len(removals), len(restores)
    record_changes(session, actor, "delete", "price_record", audit_removed)
    record_changes(session, actor, "update", "price_record", audit_restored)
    record_change(session, actor, "undo", "import_batch", batch_id, None, {
        "kind": batch.kind, "file": batch.source_name, "author": batch.author,
        "removed": report.removed, "restored": report.restored,
    })
    logger.info("Import batch %d (%s) undone by %s: %d records removed, %d restored", batch_id, batch.kind, actor,
                report.removed, report.restored)
    return report


def batch_page(session: Session, number: int, size: int, feed_id: Optional[int] = None,
               author: Optional[str] = None) -> Page:
    """Imported batches, newest first (optionally one feed's, or one author's), a page at a time."""
    query = select(ImportBatch)
    if feed_id is not None:
        query = query.where(ImportBatch.feed_id == feed_id)
    if author is not None:
        query = query.where(ImportBatch.author == author)
    return fetch_page(session, query, [ImportBatch.created_at.desc(), ImportBatch.id.desc()], number, size)
