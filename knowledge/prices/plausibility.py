"""Plausibility of a new price: a figure far from what the product usually costs is held for a person to confirm.

A typo (生猪 118 元/斤 for 11.8) passes every format rule, and once saved it is answered and pushed to
every subscriber. So a price more than PRICE_OUTLIER_FACTOR times above or below the median of the
product's newest records is held; a product with too little history is held outside a broad band of
its category instead. The CLI import refuses held rows unless --accept-outliers is given, the
console's preview asks for an explicit confirmation, /setprice warns before 确认; an accepted outlier
is written to the audit log (action "accept_outlier").

Messages are plain Chinese: officers read them.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import median
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.catalog.units import convert_price, format_price
from knowledge.models import PriceRecord
from knowledge.prices.queries import representative_price
from knowledge.prices.validation import CheckedPrice

# The median is taken over this many of the product's newest records (any market), if there are enough.
HISTORY_RECORDS = 30
MIN_HISTORY = 3
ACCEPT_ACTION = "accept_outlier"
# Broad bands in 元/公斤 by product category, for products without history: a figure outside is a typo
# far more often than a market. Categories not listed (indices) have no band.
CATEGORY_BANDS: Dict[str, Tuple[Decimal, Decimal]] = {
    "粮油": (Decimal("0.4"), Decimal("40")),
    "蔬菜": (Decimal("0.1"), Decimal("80")),
    "水果": (Decimal("0.2"), Decimal("150")),
    "肉禽蛋": (Decimal("1"), Decimal("400")),
    "水产": (Decimal("1"), Decimal("800")),
}
_BAND_UNIT = "元/公斤"


@dataclass(frozen=True)
class Outlier:
    """A checked price held as implausible, and why (plain Chinese)."""

    price: CheckedPrice
    reason: str

    def audit_values(self) -> Dict[str, object]:
        """What the audit log keeps of an accepted outlier."""
        price = self.price
        return {"product": price.product.name, "market": price.market.name,
                "date": price.report_date.isoformat(), "unit": price.unit,
                "min": _text(price.min_price), "avg": _text(price.avg_price), "max": _text(price.max_price),
                "reason": self.reason}


def _text(value: Optional[Decimal]) -> Optional[str]:
    return None if value is None else str(value)


class PlausibilityCheck:
    """Checks prices against their product's recent median (or category band); one per batch, medians cached."""

    def __init__(self, session: Session, factor: Decimal) -> None:
        self._session = session
        self._factor = Decimal(factor)
        self._medians: Dict[int, Optional[Decimal]] = {}

    def recent_median(self, product_id: int) -> Optional[Decimal]:
        """Median of the representative figures of the product's newest records (canonical unit); None if too few."""
        if product_id not in self._medians:
            rows = self._session.execute(
                select(PriceRecord.min_price, PriceRecord.avg_price, PriceRecord.max_price)
                .where(PriceRecord.product_id == product_id)
                .order_by(PriceRecord.report_date.desc(), PriceRecord.id.desc())
                .limit(HISTORY_RECORDS)
            ).all()
            values = [value for value in (representative_price(*row) for row in rows) if value is not None]
            self._medians[product_id] = Decimal(median(values)) if len(values) >= MIN_HISTORY else None
        return self._medians[product_id]

    def check(self, price: CheckedPrice) -> Optional[Outlier]:
        """The outlier, or None when the price is plausible."""
        value = representative_price(price.min_price, price.avg_price, price.max_price)
        if value is None:
            return None
        product = price.product
        typical = self.recent_median(product.id) if product.id is not None else None
        shown = f"{product.name} {format_price(value)}{price.unit}"
        if typical is not None and typical > 0:
            typical_here = convert_price(typical, product.unit, price.unit)
            if value > typical_here * self._factor or value * self._factor < typical_here:
                times = value / typical_here if value >= typical_here else typical_here / value if value else None
                ratio = f"{times.quantize(Decimal('0.1'))}倍" if times is not None else "很多"
                side = "高" if value > typical_here else "低"
                return Outlier(price, f"{shown} 比近期中位数 {format_price(typical_here)}{price.unit} {side}{ratio}"
                                      f"（超过{self._factor.normalize():f}倍），请核对是否写错")
            return None
        band = CATEGORY_BANDS.get(product.category)
        if band is None:
            return None
        low, high = (convert_price(limit, _BAND_UNIT, price.unit) for limit in band)
        if value < low or value > high:
            return Outlier(price, f"{shown} 不在{product.category}的常见范围 {format_price(low)}–{format_price(high)}"
                                  f"{price.unit} 内（还没有足够的历史价格），请核对是否写错")
        return None


def find_outliers(
    session: Session, prices: List[Tuple[int, CheckedPrice]], factor: Decimal
) -> List[Tuple[int, Outlier]]:
    """(line, outlier) of every implausible price among (line, price)."""
    checker = PlausibilityCheck(session, factor)
    found = []
    for line, price in prices:
        outlier = checker.check(price)
        if outlier is not None:
            found.append((line, outlier))
    return found


def record_accepted_outliers(session: Session, actor: str, outliers: List[Outlier], via: str) -> None:
    """Write each accepted outlier to the audit log, in the caller's transaction."""
    for outlier in outliers:
        record_change(session, actor, ACCEPT_ACTION, "price_record", None, None, {**outlier.audit_values(), "via": via})
