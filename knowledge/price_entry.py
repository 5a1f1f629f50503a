"""Validating and saving one price entry: the single rule set behind the seed, CSV/Excel import,
the console's price form and an officer's /setprice on Telegram.

Validation messages are plain Chinese, because officers read them.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, and_, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from knowledge.lookup import descendant_ids, find_market, find_product, find_region
from knowledge.models import Market, PriceRecord, Product, Region, utcnow
from knowledge.units import UnknownUnitError, convert_price, normalise_unit

logger = logging.getLogger(__name__)


@dataclass
class PriceInput:
    """A price as an officer or a file gives it: text fields, not yet checked."""

    product: Any
    market: Any
    date: Any
    unit: Any
    source: Any
    min_price: Any = None
    avg_price: Any = None
    max_price: Any = None
    region: Any = None
    confidence: Any = "V"
    note: Any = None


@dataclass
class CheckedPrice:
    """A price entry that passed validation, resolved to knowledge-base rows."""

    product: Product
    market: Market
    report_date: dt.date
    unit: str
    source: str
    min_price: Optional[Decimal]
    avg_price: Optional[Decimal]
    max_price: Optional[Decimal]
    confidence: str
    note: Optional[str]


@dataclass
class PriceCheck:
    """The outcome of validating one entry: the checked price, or every reason it was refused."""

    price: Optional[CheckedPrice] = None
    errors: List[str] = field(default_factory=list)


class LookupCache:
    """Remembers name lookups during one batch (an import of many rows asks for the same names)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._products: Dict[str, Optional[Product]] = {}
        self._markets: Dict[str, Optional[Market]] = {}
        self._regions: Dict[str, Optional[Region]] = {}
        self._descendants: Dict[int, Set[int]] = {}
        # Markets the batch names for the first time: one new Market per name, saved with the prices.
        self.new_markets: Dict[str, Market] = {}

    def product(self, name: str) -> Optional[Product]:
        """find_product, remembered."""
        if name not in self._products:
            self._products[name] = find_product(self.session, name)
        return self._products[name]

    def market(self, name: str) -> Optional[Market]:
        """find_market, remembered."""
        if name not in self._markets:
            self._markets[name] = find_market(self.session, name)
        return self._markets[name]

    def region(self, name: str) -> Optional[Region]:
        """find_region, remembered."""
        if name not in self._regions:
            self._regions[name] = find_region(self.session, name)
        return self._regions[name]

    def within(self, inner: Region, outer: Region) -> bool:
        """True when `inner` is `outer` or lies below it."""
        if outer.id not in self._descendants:
            self._descendants[outer.id] = descendant_ids(self.session, outer)
        return inner.id in self._descendants[outer.id]


def clean_text(value: Any) -> str:
    """The value as stripped text; empty for None."""
    return "" if value is None else str(value).strip()


def _ascii_form(text: str) -> str:
    # NFKC turns full-width digits and signs (１２.５, －３, ／) into the ASCII forms we parse;
    # only for numbers and dates, since it would also flatten Chinese punctuation in prose.
    return unicodedata.normalize("NFKC", text)


def parse_price(value: Any, label: str, errors: List[str]) -> Optional[Decimal]:
    """A non-negative decimal, or None when empty; appends a Chinese reason on bad input."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(value)  # shortest round-trip form: 1.15 stays 1.15
    if isinstance(value, str) and value.isascii() and "," not in value:
        # The common case, a plain number, without the normalisation below (imports parse
        # hundreds of thousands of these).
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and number >= 0:
            return number
    text = _ascii_form(clean_text(value).replace("，", ".")).replace(",", "")
    # "1.5元" and "1.5元/斤" in a price cell: the unit belongs to the 单位 column.
    text = re.sub(r"元(/.*)?$", "", text).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.append(f"{label}“{text}”不是数字")
        return None
    if not number.is_finite():
        errors.append(f"{label}“{text}”不是数字")
        return None
    if number < 0:
        errors.append(f"{label}不能是负数（{text}）")
        return None
    return number


@lru_cache(maxsize=4096)
def _date_from_text(text: str) -> Optional[dt.date]:
    # Remembered: a file repeats the same few dates on every row.
    # Excel's CSV often adds a time ("2025/2/8 0:00"); the date is the first word.
    normalised = text.split()[0].replace("年", "-").replace("月", "-").replace("日", "")
    normalised = normalised.replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", normalised):
        normalised = f"{normalised[:4]}-{normalised[4:6]}-{normalised[6:]}"
    try:
        year, month, day = (int(part) for part in normalised.split("-")[:3])
        return dt.date(year, month, day)
    except (ValueError, TypeError):
        return None


def parse_date(
    value: Any,
    today: dt.date,
    errors: List[str],
    label: str = "发布日期",
    required: bool = True,
    allow_future: bool = False,
) -> Optional[dt.date]:
    """A date (2025-02-08, 2025/2/8, 2025年2月8日, 20250208, or an Excel date); by default required, not future."""
    if isinstance(value, dt.datetime):
        parsed: Optional[dt.date] = value.date()
    elif isinstance(value, dt.date):
        parsed = value
    else:
        text = _ascii_form(clean_text(value))
        if not text:
            if required:
                errors.append(f"缺少{label}")
            return None
        parsed = _date_from_text(text)
        if parsed is None:
            errors.append(f"{label}“{text}”看不懂，请写成 2025-02-08")
            return None
    if not allow_future and parsed > today:
        errors.append(f"{label} {parsed.isoformat()} 在今天之后")
        return None
    return parsed


def _resolve_market(cache: LookupCache, market_name: str, region_name: str, errors: List[str]) -> Optional[Market]:
    market = cache.market(market_name)
    if market is not None and market.name == market_name:
        return market
    region = cache.region(region_name) if region_name else None
    if market is not None and (not region_name or (region is not None and cache.within(market.region, region))):
        return market  # a partial name ("新发地") matched a known market in the named region
    if market_name in cache.new_markets:
        return cache.new_markets[market_name]
    # An unknown market is created in the named region; without a region we cannot place it.
    if region is None:
        errors.append(f"新市场“{market_name}”需要写明所在地区" if not region_name else f"不认识的地区“{region_name}”")
        return None
    market = Market(name=market_name, region=region, kind="批发市场")
    cache.new_markets[market_name] = market
    return market


def check_price(
    session: Session, entry: PriceInput, today: Optional[dt.date] = None, cache: Optional[LookupCache] = None
) -> PriceCheck:
    """Validate one entry against the knowledge base; collects every problem, not just the first.

    Pass one `cache` for a batch of entries: lookups are remembered and a new market named by
    several rows becomes a single Market.
    """
    today = today or dt.date.today()
    cache = cache or LookupCache(session)
    errors: List[str] = []

    product_name = clean_text(entry.product)
    product = cache.product(product_name) if product_name else None
    if not product_name:
        errors.append("缺少品名")
    elif product is None:
        errors.append(f"不认识的品名“{product_name}”（不在产品表，也不是已知别名）")

    market_name = clean_text(entry.market)
    market = None
    if not market_name:
        errors.append("缺少市场")
    else:
        market = _resolve_market(cache, market_name, clean_text(entry.region), errors)

    report_date = parse_date(entry.date, today, errors)

    unit = ""
    try:
        unit = normalise_unit(clean_text(entry.unit))
    except UnknownUnitError as error:
        errors.append(str(error))

    low = parse_price(entry.min_price, "最低价", errors)
    average = parse_price(entry.avg_price, "平均价", errors)
    high = parse_price(entry.max_price, "最高价", errors)
    if low is None and average is None and high is None and not any(
        "价" in message for message in errors
    ):
        errors.append("最低价、平均价、最高价至少要填一个")
    if low is not None and high is not None and low > high:
        errors.append(f"最低价 {low} 高于最高价 {high}")
    if average is not None and ((low is not None and average < low) or (high is not None and average > high)):
        errors.append(f"平均价 {average} 不在最低价和最高价之间")

    source = clean_text(entry.source)
    if not source:
        errors.append("缺少来源")
    confidence = clean_text(entry.confidence) or "V"
    if confidence not in ("V", "V2", "U"):
        errors.append(f"可信度只能是 V、V2 或 U，不是“{confidence}”")

    if errors or product is None or market is None or report_date is None:
        return PriceCheck(errors=errors)
    return PriceCheck(
        price=CheckedPrice(
            product=product,
            market=market,
            report_date=report_date,
            unit=unit,
            source=source,
            min_price=low,
            avg_price=average,
            max_price=high,
            confidence=confidence,
            note=clean_text(entry.note) or None,
        )
    )


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

    for name, value in _record_values(price, author).items():
        setattr(record, name, value)
    session.flush()
    return record, created


# The columns an import may overwrite; the natural key (product, market, date, source) never changes.
VALUE_COLUMNS = (
    "min_price", "avg_price", "max_price", "entered_unit", "entered_min", "entered_avg", "entered_max",
    "confidence", "note", "entered_by", "updated_by",
)


def _record_values(price: CheckedPrice, author: str) -> Dict[str, Any]:
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


def _copy_value(value: Any) -> str:
    if value is None:
        return r"\N"
    text_value = str(value)
    return text_value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_insert(session: Session, rows: List[Dict[str, Any]]) -> None:
    """Insert rows into price_record with PostgreSQL's COPY, in the session's transaction."""
    columns = list(rows[0])
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(row[name]) for name in columns))
        buffer.write("\n")
    buffer.seek(0)
    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert(f"COPY price_record ({', '.join(columns)}) FROM STDIN", buffer)
    finally:
        cursor.close()


def _write_chunk(session: Session, inserts: List[Dict[str, Any]], updates: List[Dict[str, Any]]) -> None:
    # One bulk statement per kind: the import's speed comes from here, not from the ORM unit of
    # work. On PostgreSQL, COPY writes a batch about three times faster than multi-row INSERTs.
    table = PriceRecord.__table__
    if inserts and session.get_bind().dialect.name == "postgresql":
        _copy_insert(session, inserts)
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
            values = _record_values(latest[key], author)
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
