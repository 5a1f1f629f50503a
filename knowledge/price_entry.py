"""Validating and saving one price entry: the single rule set behind the seed, CSV/Excel import,
the console's price form and an officer's /setprice on Telegram.

Validation messages are plain Chinese, because officers read them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.lookup import find_market, find_product, find_region
from knowledge.models import Market, PriceRecord, Product
from knowledge.units import UnknownUnitError, convert_price, normalise_unit


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


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_price(value: Any, label: str, errors: List[str]) -> Optional[Decimal]:
    """A non-negative decimal, or None when empty; appends a Chinese reason on bad input."""
    text = _text(value).replace("，", ".").replace(",", "")
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


def parse_date(value: Any, today: dt.date, errors: List[str]) -> Optional[dt.date]:
    """A report date (2025-02-08, 2025/2/8, 2025年2月8日, or an Excel date); never in the future."""
    if isinstance(value, dt.datetime):
        parsed: Optional[dt.date] = value.date()
    elif isinstance(value, dt.date):
        parsed = value
    else:
        text = _text(value)
        if not text:
            errors.append("缺少发布日期")
            return None
        normalised = text.replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
        try:
            year, month, day = (int(part) for part in normalised.split("-")[:3])
            parsed = dt.date(year, month, day)
        except (ValueError, TypeError):
            errors.append(f"发布日期“{text}”看不懂，请写成 2025-02-08")
            return None
    if parsed > today:
        errors.append(f"发布日期 {parsed.isoformat()} 在今天之后")
        return None
    return parsed


def check_price(session: Session, entry: PriceInput, today: Optional[dt.date] = None) -> PriceCheck:
    """Validate one entry against the knowledge base; collects every problem, not just the first."""
    today = today or dt.date.today()
    errors: List[str] = []

    product_name = _text(entry.product)
    product = find_product(session, product_name) if product_name else None
    if not product_name:
        errors.append("缺少品名")
    elif product is None:
        errors.append(f"不认识的品名“{product_name}”（不在产品表，也不是已知别名）")

    market_name = _text(entry.market)
    market = None
    if not market_name:
        errors.append("缺少市场")
    else:
        market = find_market(session, market_name)
        if market is None or market.name != market_name:
            # An unknown market is created in the named region; without a region we cannot place it.
            region_name = _text(entry.region)
            region = find_region(session, region_name) if region_name else None
            if market is not None and not region_name:
                pass  # a partial name ("新发地") matched a known market
            elif region is None:
                errors.append(
                    f"新市场“{market_name}”需要写明所在地区" if not region_name else f"不认识的地区“{region_name}”"
                )
                market = None
            else:
                market = Market(name=market_name, region=region, kind="批发市场")

    report_date = parse_date(entry.date, today, errors)

    unit = ""
    try:
        unit = normalise_unit(_text(entry.unit))
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

    source = _text(entry.source)
    if not source:
        errors.append("缺少来源")
    confidence = _text(entry.confidence) or "V"
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
            note=_text(entry.note) or None,
        )
    )


def save_price(session: Session, price: CheckedPrice, author: str) -> Tuple[PriceRecord, bool]:
    """Insert the price, or update in place the record with the same (product, market, date, source).

    Returns the record and whether it was newly created. The caller owns the transaction.
    """
    if price.market.id is None:
        session.add(price.market)
        session.flush()
    record = session.scalars(
        select(PriceRecord).where(
            PriceRecord.product_id == price.product.id,
            PriceRecord.market_id == price.market.id,
            PriceRecord.report_date == price.report_date,
            PriceRecord.source == price.source,
        )
    ).first()
    created = record is None
    if record is None:
        record = PriceRecord(
            product=price.product, market=price.market, report_date=price.report_date, source=price.source
        )
        session.add(record)

    def canonical(value: Optional[Decimal]) -> Optional[Decimal]:
        return None if value is None else convert_price(value, price.unit, price.product.unit)

    record.entered_unit = price.unit
    record.entered_min, record.entered_avg, record.entered_max = price.min_price, price.avg_price, price.max_price
    record.min_price = canonical(price.min_price)
    record.avg_price = canonical(price.avg_price)
    record.max_price = canonical(price.max_price)
    record.confidence = price.confidence
    record.note = price.note
    record.entered_by = author
    record.updated_by = author
    session.flush()
    return record, created
