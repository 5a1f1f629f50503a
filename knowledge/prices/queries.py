"""Price queries written for the farmer's question: the latest price, where it is from and how old
it is, whether it is going up or down, and how markets compare.

Every query answers for the farmer's region when it can and otherwise falls back to the nearest
wider region, then to national figures, and says which one it used.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union

from sqlalchemy import Integer, bindparam, case, func, literal, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, Case

from knowledge.catalog.snapshot import Catalog, ProductEntry, catalog
from knowledge.catalog.units import DEFAULT_ASKED_UNIT, convert_price
from knowledge.models import Market, PriceRecord, Product

# When several markets report on the same day, national and production-area figures answer a
# farmer's "how much" better than one city's wholesale market.
_KIND_PREFERENCE: Case[Integer] = case(
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


def _convert(value: Optional[Decimal], product: Union[Product, ProductEntry], unit: str) -> Optional[Decimal]:
    return None if value is None else convert_price(value, product.unit, unit)


def quote_from_record(record: PriceRecord, unit: str, today: dt.date) -> PriceQuote:
    """Turn a stored record into a quote in `unit`, with its age in days."""
    return _quote(record.product, record.market, record, unit, today)


def _quote(product: Union[Product, ProductEntry], market: Any, record: Any, unit: str, today: dt.date) -> PriceQuote:
    # `market` and `record` may be ORM objects or result rows with the same attribute names.
    return PriceQuote(
        product=product.name,
        market=market.name,
        market_kind=market.kind,
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


def representative_price(
    low: Optional[Decimal], average: Optional[Decimal], high: Optional[Decimal]
) -> Optional[Decimal]:
    """One figure for a record: the average, else the middle of min and max, else whichever is given."""
    if average is not None:
        return average
    if low is not None and high is not None:
        return (low + high) / 2
    return low if low is not None else high


def _newest_record_statement(within_markets: bool, up_to_date: bool):
    # The newest date is a max over the (product_id, report_date) or (market_id, product_id,
    # report_date) index; only that day's records are then sorted by the market-kind preference.
    # Sorting every record of a product by date and kind would cost milliseconds at scale.
    product_id: BindParameter[Integer] = bindparam("product_id")
    newest_date = select(func.max(PriceRecord.report_date)).where(PriceRecord.product_id == product_id)
    query = (
        select(
            PriceRecord.id, PriceRecord.market_id, Market.name, Market.kind, PriceRecord.report_date,
            PriceRecord.min_price, PriceRecord.avg_price, PriceRecord.max_price, PriceRecord.source,
            PriceRecord.confidence, PriceRecord.note,
        )
        .join(Market, Market.id == PriceRecord.market_id)
        .where(PriceRecord.product_id == product_id)
    )
    if within_markets:
        market_ids: BindParameter[Integer] = bindparam("market_ids", expanding=True)
        newest_date = newest_date.where(PriceRecord.market_id.in_(market_ids))
        query = query.where(PriceRecord.market_id.in_(market_ids))
    if up_to_date:
        newest_date = newest_date.where(PriceRecord.report_date <= bindparam("as_of"))
    return (
        query.where(PriceRecord.report_date == newest_date.scalar_subquery())
        .order_by(_KIND_PREFERENCE, PriceRecord.id.desc())
        .limit(1)
    )


# Built once, and plain rows rather than ORM objects: this runs for every price question, several
# times when a region falls back, and building statements and entities costs more than the query.
_NEWEST = {
    (within_markets, up_to_date): _newest_record_statement(within_markets, up_to_date)
    for within_markets in (False, True)
    for up_to_date in (False, True)
}


def _newest_record(
    session: Session, product: ProductEntry, markets: Optional[List[int]], as_of: Optional[dt.date] = None
) -> Optional[Row]:
    """The newest record of a product in the markets with these ids (None: all markets), on or before
    `as_of` if given, as a row with the record's figures and provenance and the market's `name` and `kind`."""
    parameters: Dict[str, Any] = {"product_id": product.id}
    if markets is not None:
        parameters["market_ids"] = markets
    if as_of is not None:
        parameters["as_of"] = as_of
    return session.execute(_NEWEST[(markets is not None, as_of is not None)], parameters).first()


@dataclass(frozen=True)
class _Scope:
    """Where to look: some markets (None: all of them) and the name to report for them."""

    # Ids of the markets in scope; None means every market.
    markets: Optional[List[int]]
    # None means national.
    answered_region: Optional[str]


def _scopes(names: Catalog, region_name: Optional[str]) -> Iterator[_Scope]:
    """The named market, then the named region and each wider one below 全国, then national."""
    if region_name:
        market = names.market(region_name)
        if market is not None:
            yield _Scope([market.id], region_name)
        region = names.region(region_name)
        if region is not None:
            for scope in names.region_chain(region):
                if scope.parent_id is None:
                    break  # the root is 全国: answered as national
                # A literal list of ids, not a subquery, keeps the price query's plan simple, and
                # a region without markets is skipped without touching the price table at all.
                market_ids = names.market_ids_in(scope)
                if market_ids:
                    yield _Scope(market_ids, region_name if scope.id == region.id else scope.name)
    yield _Scope(None, None)


def _answering_record(
    session: Session, names: Catalog, product: ProductEntry, region_name: Optional[str],
    as_of: Optional[dt.date] = None,
) -> Optional[Tuple[Row, _Scope]]:
    """The record that answers for the region (or the nearest wider scope that has one), and that scope."""
    for scope in _scopes(names, region_name):
        record = _newest_record(session, product, scope.markets, as_of)
        if record is not None:
            return record, scope
    return None


def latest_price(
    session: Session,
    product_name: str,
    region_name: Optional[str] = None,
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
    as_of: Optional[dt.date] = None,
) -> Optional[LatestPrice]:
    """Newest price of a product, in a market or region if named, else falling back to wider regions, then national.

    With `as_of` ("上个月呢"), the newest price on or before that day. Returns None when the product
    is unknown or has no price anywhere (up to `as_of`).
    """
    today = today or dt.date.today()
    names = catalog(session)
    product = names.product(product_name)
    if product is None:
        return None
    found = _answering_record(session, names, product, region_name, as_of)
    if found is None:
        return None
    record, scope = found
    return LatestPrice(_quote(product, record, record, unit, today), region_name or None, scope.answered_region)


def products_with_prices(session: Session, limit: int = 5, category: Optional[str] = None) -> List[str]:
    """Names of products that do have prices (for "no data for X, but we have …"), of `category` only when given:
    apples are not answered with lettuce."""
    query = select(Product.name).where(Product.id.in_(select(PriceRecord.product_id).distinct()))
    if category:
        query = query.where(Product.category == category)
    return list(session.scalars(query.order_by(Product.name).limit(limit)).all())


# A change smaller than this, either way, is reported as flat: day-to-day noise, not a trend.
FLAT_THRESHOLD_PERCENT = Decimal("1")


@dataclass(frozen=True)
class TrendPoint:
    """One day of a trend: the date and the representative price in the asked unit."""

    report_date: dt.date
    price: Decimal


@dataclass(frozen=True)
class PriceTrend:
    """The answer to "X 最近涨了还是跌了": one market's series over a window, first and last points."""

    product: str
    market: str
    market_kind: str
    source: str
    unit: str
    direction: str  # "up", "down" or "flat"
    # (last - first) / first in percent, to one decimal; None when the first price is zero.
    change_percent: Optional[Decimal]
    first: TrendPoint
    last: TrendPoint
    points: List[TrendPoint]
    # Days since the last point, as PriceQuote.age_days.
    age_days: int
    requested_region: Optional[str]
    answered_region: Optional[str]

    @property
    def enough_data(self) -> bool:
        """False when the window holds a single day, so there is nothing to compare."""
        return len(self.points) > 1

    @property
    def fell_back(self) -> bool:
        """True when the farmer named a region but the series comes from a wider one."""
        return self.requested_region is not None and self.answered_region != self.requested_region


def _percent(first: Decimal, last: Decimal) -> Optional[Decimal]:
    if first == 0:
        return None
    return ((last - first) / first * 100).quantize(Decimal("0.1"))


def _direction(change: Optional[Decimal], first: Decimal, last: Decimal) -> str:
    if change is None:
        return "flat" if last == first else ("up" if last > first else "down")
    if abs(change) < FLAT_THRESHOLD_PERCENT:
        return "flat"
    return "up" if change > 0 else "down"


def price_trend(
    session: Session,
    product_name: str,
    region_name: Optional[str] = None,
    days: Optional[int] = 30,
    records: Optional[int] = None,
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
) -> Optional[PriceTrend]:
    """Whether a price goes up, down or flat: over `days` up to the newest record, or over the last `records`.

    The series is the one market and source that latest_price would answer from (with the same
    region fallback), so the trend never mixes a production-area price with a city's retail
    market. The window ends at the newest record, not today, so an old series still has a
    trend; `age_days` says how old it is. Returns None when the product is unknown or has no price.
    """
    today = today or dt.date.today()
    names = catalog(session)
    product = names.product(product_name)
    if product is None:
        return None
    found = _answering_record(session, names, product, region_name)
    if found is None:
        return None
    newest, scope = found
    series = select(
        PriceRecord.report_date, PriceRecord.min_price, PriceRecord.avg_price, PriceRecord.max_price
    ).where(
        PriceRecord.product_id == product.id,
        PriceRecord.market_id == newest.market_id,
        PriceRecord.source == newest.source,
    )
    if records is not None:
        series = series.order_by(PriceRecord.report_date.desc()).limit(max(records, 1))
    else:
        since = newest.report_date - dt.timedelta(days=max(days or 0, 0))
        series = series.where(PriceRecord.report_date >= since).order_by(PriceRecord.report_date.desc())
    points: List[TrendPoint] = []
    for report_date, low, average, high in session.execute(series):
        value = representative_price(low, average, high)
        if value is not None:
            points.append(TrendPoint(report_date, convert_price(value, product.unit, unit)))
    points.reverse()
    first, last = points[0], points[-1]
    change = _percent(first.price, last.price)
    return PriceTrend(
        product=product.name,
        market=newest.name,
        market_kind=newest.kind,
        source=newest.source,
        unit=unit,
        direction=_direction(change, first.price, last.price),
        change_percent=change,
        first=first,
        last=last,
        points=points,
        age_days=(today - last.report_date).days,
        requested_region=region_name or None,
        answered_region=scope.answered_region,
    )


# Kinds that are places a farmer can sell at; averages are reference figures, not markets.
_SELLING_KINDS = ("批发市场", "收购点", "集市")


@dataclass(frozen=True)
class MarketComparison:
    """The answer to "哪里卖得贵": each market's newest price, the extremes, and region vs national."""

    product: str
    unit: str
    # Each market's newest record within the window, highest first.
    quotes: List[PriceQuote]
    highest: Optional[PriceQuote]
    lowest: Optional[PriceQuote]
    # The national figure: the official national average when one is recorded, else the mean of all markets.
    national_price: Optional[Decimal]
    national_basis: str
    # Mean of the markets in the farmer's region (or the nearest wider region that has any).
    regional_price: Optional[Decimal]
    regional_quotes: List[PriceQuote]
    # (regional - national) / national in percent, to one decimal.
    regional_vs_national_percent: Optional[Decimal]
    requested_region: Optional[str]
    answered_region: Optional[str]

    @property
    def fell_back(self) -> bool:
        """True when the farmer named a region but the regional figure comes from a wider one."""
        return self.requested_region is not None and self.answered_region != self.requested_region


def _mean(values: List[Decimal]) -> Optional[Decimal]:
    # Four places, the precision prices are stored with.
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.0001")) if values else None


def compare_markets(
    session: Session,
    product_name: str,
    region_name: Optional[str] = None,
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
    window_days: int = 7,
) -> Optional[MarketComparison]:
    """Compare a product's newest price across markets: highest, lowest, and the farmer's region against national.

    Each market contributes its newest record from the `window_days` before the product's newest
    record, so a market that stopped reporting long ago is not compared with today's prices.
    Returns None when the product is unknown or has no price.
    """
    today = today or dt.date.today()
    names = catalog(session)
    product = names.product(product_name)
    if product is None:
        return None
    newest = session.scalar(select(func.max(PriceRecord.report_date)).where(PriceRecord.product_id == product.id))
    if newest is None:
        return None
    ranked = (
        select(
            PriceRecord.id,
            func.row_number()
            .over(partition_by=PriceRecord.market_id, order_by=(PriceRecord.report_date.desc(), PriceRecord.id.desc()))
            .label("rank"),
        )
        .where(
            PriceRecord.product_id == product.id,
            PriceRecord.report_date >= newest - dt.timedelta(days=window_days),
        )
        .subquery()
    )
    # Plain rows, not ORM objects: a national comparison reads one row per market (hundreds).
    rows = session.execute(
        select(
            PriceRecord.market_id, Market.name, Market.kind, PriceRecord.report_date, PriceRecord.min_price,
            PriceRecord.avg_price, PriceRecord.max_price, PriceRecord.source, PriceRecord.confidence,
            PriceRecord.note,
        )
        .join(Market, Market.id == PriceRecord.market_id)
        .join(ranked, ranked.c.id == PriceRecord.id)
        .where(ranked.c.rank == literal(1))
    ).all()
    quotes: Dict[int, PriceQuote] = {row.market_id: _quote(product, row, row, unit, today) for row in rows}
    values: Dict[int, Decimal] = {}
    for market_id, quote in quotes.items():
        value = representative_price(quote.min_price, quote.avg_price, quote.max_price)
        if value is not None:
            values[market_id] = value
    selling = sorted(
        (i for i, quote in quotes.items() if quote.market_kind in _SELLING_KINDS and i in values),
        key=lambda market_id: values[market_id],
        reverse=True,
    )
    national_ids = [market_id for market_id, quote in quotes.items() if quote.market_kind == "全国均价"]
    if national_ids and any(market_id in values for market_id in national_ids):
        national_id = max((i for i in national_ids if i in values), key=lambda i: quotes[i].report_date)
        national_price: Optional[Decimal] = values[national_id]
        national_basis = quotes[national_id].market
    else:
        national_price = _mean([values[market_id] for market_id in selling])
        national_basis = "各市场平均"

    regional_ids: List[int] = []
    answered: Optional[str] = None
    if region_name:
        for scope in _scopes(names, region_name):
            if scope.markets is None:
                break
            in_scope: Set[int] = set(scope.markets)
            regional_ids = [market_id for market_id in selling if market_id in in_scope]
            if regional_ids:
                answered = scope.answered_region
                break
    regional_price = _mean([values[market_id] for market_id in regional_ids])
    difference = (
        _percent(national_price, regional_price)
        if regional_price is not None and national_price is not None
        else None
    )
    ordered = sorted(quotes, key=lambda market_id: values.get(market_id, Decimal(-1)), reverse=True)
    return MarketComparison(
        product=product.name,
        unit=unit,
        quotes=[quotes[market_id] for market_id in ordered],
        highest=quotes[selling[0]] if selling else None,
        lowest=quotes[selling[-1]] if selling else None,
        national_price=national_price,
        national_basis=national_basis,
        regional_price=regional_price,
        regional_quotes=[quotes[market_id] for market_id in regional_ids],
        regional_vs_national_percent=difference,
        requested_region=region_name or None,
        answered_region=answered,
    )


def newest_report_dates(session: Session) -> Dict[str, dt.date]:
    """The newest report date of each product that has prices, by product name (stale-price monitoring)."""
    rows = session.execute(
        select(Product.name, func.max(PriceRecord.report_date))
        .join(PriceRecord, PriceRecord.product_id == Product.id).group_by(Product.name)
    ).all()
    return {name: newest for name, newest in rows if newest is not None}
