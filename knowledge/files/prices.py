"""Importing a price file all or nothing, and exporting every price in the same layout.

Every row is checked by the shared price rules (knowledge.prices.validation) before anything is
written. One bad row means nothing is written and every bad row is reported. The caller owns the
transaction: the CLI commits only a clean import, and an interruption rolls everything back.
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from knowledge.audit import record_change, record_changes
from knowledge.files.tables import ImportReport, RowProblem, Table, read_table, write_csv
from knowledge.local_time import local_today
from knowledge.models import Market, PriceRecord, Product, Region
from knowledge.prices.batches import BatchOrigin, record_batch
from knowledge.prices.bulk_saving import save_prices
from knowledge.prices.lookup_cache import LookupCache
from knowledge.prices.plausibility import find_outliers, record_accepted_outliers
from knowledge.prices.validation import CheckedPrice, PriceInput, check_price
from settings import load_settings

logger = logging.getLogger(__name__)

# field → the headers that name it, Chinese first (what the export writes), then English aliases.
PRICE_HEADERS: Dict[str, Tuple[str, ...]] = {
    "product": ("品名", "产品", "品种", "product"),
    "market": ("市场", "market"),
    "region": ("地区", "所在地区", "region"),
    "min_price": ("最低价", "min_price"),
    "avg_price": ("平均价", "均价", "avg_price"),
    "max_price": ("最高价", "max_price"),
    "unit": ("单位", "unit"),
    "date": ("发布日期", "日期", "date", "report_date"),
    "source": ("来源", "source"),
    "confidence": ("可信度", "confidence"),
    "note": ("备注", "note"),
}
PRICE_REQUIRED = ("product", "market", "unit", "date", "source")
PRICE_ANY_OF = ("min_price", "avg_price", "max_price")


def check_price_rows(
    session: Session, table: Table, today: dt.date
) -> Tuple[List[Tuple[int, CheckedPrice]], List[RowProblem]]:
    """Check every row with the shared price rules; returns the good rows and every problem."""
    cache = LookupCache(session)
    good: List[Tuple[int, CheckedPrice]] = []
    problems: List[RowProblem] = []
    for line, row in table.rows:
        check = check_price(
            session,
            PriceInput(
                product=row.get("product"),
                market=row.get("market"),
                date=row.get("date"),
                unit=row.get("unit"),
                source=row.get("source"),
                min_price=row.get("min_price"),
                avg_price=row.get("avg_price"),
                max_price=row.get("max_price"),
                region=row.get("region"),
                confidence=row.get("confidence") or "V",
                note=row.get("note"),
            ),
            today=today,
            cache=cache,
        )
        if check.price is None:
            problems.append(RowProblem(line, check.errors))
        else:
            good.append((line, check.price))
    return good, problems


def outside_regions(good: List[Tuple[int, CheckedPrice]], scope: Set[int], where: str) -> List[RowProblem]:
    """A problem for each checked row whose market is not in `scope` (region ids), named `where` for the officer."""
    return [RowProblem(line, [f"市场“{price.market.name}”不在“{where}”范围内"])
            for line, price in good if price.market.region is None or price.market.region.id not in scope]


def import_prices(
    session: Session, path: Path, actor: str, today: Optional[dt.date] = None, *,
    origin: Optional[BatchOrigin] = None, headers: Optional[Dict[str, Tuple[str, ...]]] = None,
    region_scope: Optional[Tuple[Set[int], str]] = None, accept_outliers: bool = False,
    outlier_factor: Optional[Decimal] = None,
) -> ImportReport:
    """Import a price file all or nothing; the caller commits only when the report is ok.

    `origin` names the batch (default: a file given on the command line), `headers` replaces the column
    names (a feed's column mapping), and `region_scope` (region ids, and the region's name for the
    reasons) refuses rows whose market lies outside it. The batch is recorded so it can be undone.
    Rows whose price is implausible (knowledge.prices.plausibility, `outlier_factor` or
    PRICE_OUTLIER_FACTOR) are held in `report.held` and nothing is written, unless `accept_outliers`:
    then they are written and each is recorded in the audit log. A feed never accepts them.
    """
    today = today or local_today()
    origin = origin or BatchOrigin("file", path.name)
    table, problems = read_table(path, headers or PRICE_HEADERS, PRICE_REQUIRED, PRICE_ANY_OF)
    if table is None:
        return ImportReport(problems=problems)
    good, problems = check_price_rows(session, table, today)
    if region_scope is not None:
        problems = sorted(problems + outside_regions(good, *region_scope), key=lambda problem: problem.line)
    report = ImportReport(rows=len(table.rows), problems=problems)
    if problems:
        logger.info("Price import of %s refused: %d of %d rows have problems", origin.name, len(problems), report.rows)
        return report
    factor = outlier_factor if outlier_factor is not None else load_settings().price_outlier_factor
    outliers = find_outliers(session, good, factor)
    if outliers and not accept_outliers:
        report.held = [RowProblem(line, [outlier.reason]) for line, outlier in outliers]
        logger.info("Price import of %s held: %d of %d rows are implausible", origin.name, len(outliers), report.rows)
        return report
    prices = [price for _, price in good]
    result = save_prices(session, prices, author=actor)
    if outliers:
        record_accepted_outliers(session, actor, [outlier for _, outlier in outliers], via=origin.name)
        logger.info("Price import of %s: %d implausible rows accepted by %s", origin.name, len(outliers), actor)
    report.created, report.updated, report.new_markets = result.created, result.updated, result.new_markets
    for name in result.new_markets:
        record_change(session, actor, "create", "market", None, None, {"name": name, "via": origin.name})
    record_changes(session, actor, "update", "price_record",
                   ((change.record_id, change.before, change.after) for change in result.updates))
    batch = record_batch(session, origin, actor, prices, result, report.rows)
    report.batch_id = batch.id
    record_change(session, actor, "import", "price_record", None, None, {
        "file": origin.name, "rows": report.rows, "created": report.created, "updated": report.updated,
        "batch": batch.id,
    })
    logger.info("Imported %s: %d rows, %d new, %d updated (batch %d)", origin.name, report.rows, report.created,
                report.updated, batch.id)
    return report


def export_prices(session: Session, path: Path) -> int:
    """Write every price record as entered, in the import layout (re-importable); returns the row count."""
    region = aliased(Region)
    query = (
        select(Product.name, Market.name, region.name, PriceRecord.entered_min, PriceRecord.entered_avg,
               PriceRecord.entered_max, PriceRecord.entered_unit, PriceRecord.report_date, PriceRecord.source,
               PriceRecord.confidence, PriceRecord.note)
        .join(Product, Product.id == PriceRecord.product_id)
        .join(Market, Market.id == PriceRecord.market_id)
        .join(region, region.id == Market.region_id)
        .order_by(PriceRecord.report_date, Product.name, Market.name)
        .execution_options(yield_per=5000)
    )
    fields = ("product", "market", "region", "min_price", "avg_price", "max_price", "unit", "date", "source",
              "confidence", "note")
    return write_csv(path, [PRICE_HEADERS[name][0] for name in fields], session.execute(query))
