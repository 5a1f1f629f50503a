"""Checking one price entry: the single rule set behind the seed, CSV/Excel import, the console's price
form and an officer's /setprice on Telegram.

Validation messages are plain Chinese, because officers read them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, List, Optional

from sqlalchemy.orm import Session

from knowledge.catalog.units import UnknownUnitError, normalise_unit
from knowledge.fields import clean_text, name_problem, parse_date
from knowledge.local_time import local_today
from knowledge.models import Market, Product
from knowledge.prices.lookup_cache import LookupCache
from knowledge.prices.parsing import parse_price


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
    # Its name becomes a word of the NLU's dictionary (knowledge.catalog.dictionary).
    problem = name_problem(market_name, "市场名", dictionary_word=True)
    if problem:
        errors.append(problem)
        return None
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
    today = today or local_today()
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
