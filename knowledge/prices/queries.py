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

from sqlalchemy import Integer, bindparam, case, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, Case

from knowledge.catalog.snapshot import Catalog, ProductEntry, catalog
from knowledge.catalog.units import DEFAULT_ASKED_UNIT, convert_price
from knowledge.local_time import local_today
from knowledge.models import Market, PriceRecord, Product

# When several markets report on the same day, a national figure, then a regional average, answers a
# farmer's "how much" better than one market; among equals, production-area averages before a city's
# wholesale market.
_SCOPE_PREFERENCE: Case[Integer] = case(
    (Market.scope == "national", 0),
    (Market.scope == "regional", 1),
    else_=2,
)
_KIND_PREFERENCE: Case[Integer] = case(
    (Market.kind == "全国均价", 0),
    (Market.kind == "产区均价", 1),
    (Market.kind == "批发市场", 2),
    else_=3,
)

# Records at most this many days older than the newest one are "of comparable dates": an aggregate,
# a comparison or a count of markets only puts together prices this close in time.
COMPARABLE_DAYS = 10

# What an answer stands on: a national figure, a regional average, one local market, or several markets.
NATIONAL, REGIONAL, LOCAL, SEVERAL = "national", "regional", "local", "several"


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
class Coverage:
    """What an aggregate over several markets covers: how many markets, in which provinces, over which days."""

    markets: int
    provinces: Tuple[str, ...]
    first_date: dt.date
    last_date: dt.date


@dataclass(frozen=True)
class LatestPrice:
    """The answer to "X 多少钱": the quote, which region it really covers, and what it stands on."""

    quote: PriceQuote
    requested_region: Optional[str]
    # The region whose markets gave the answer; None means the whole country (a national figure, or
    # markets anywhere when there is none: see `basis`).
    answered_region: Optional[str]
    # NATIONAL (a national figure: only then is it 全国), REGIONAL (a region's average), LOCAL (one
    # market, named as such) or SEVERAL (an aggregate of the markets in `quotes`, see `coverage`).
    basis: str = NATIONAL
    # The level (Region.LEVELS) of answered_region; "country" when answered_region is None.
    answered_level: Optional[str] = None
    coverage: Optional[Coverage] = None
    # The markets' own quotes an aggregate (SEVERAL) is made of, highest first.
    quotes: Tuple[PriceQuote, ...] = ()

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
        .order_by(_SCOPE_PREFERENCE, _KIND_PREFERENCE, PriceRecord.id.desc())
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
    # None means the whole country.
    answered_region: Optional[str]
    # Region.LEVELS of the region ("market" for a market named by the farmer).
    level: str = "country"


def _scopes(names: Catalog, region_name: Optional[str], national: bool = True) -> Iterator[_Scope]:
    """The named market, then the named region and each wider one below 全国, then (with `national`) all markets."""
    if region_name:
        region = names.region(region_name)
        market = names.market(region_name)
        # "郑州" is the city, not the first market whose name contains it; "新发地" is a market.
        if market is not None and (region is None or market.name == region_name):
            yield _Scope([market.id], region_name, "market")
        if region is not None:
            for scope in names.region_chain(region):
                if scope.parent_id is None:
                    break  # the root is 全国: answered by the national step
                # A literal list of ids, not a subquery, keeps the price query's plan simple, and
                # a region without markets is skipped without touching the price table at all.
                market_ids = names.market_ids_in(scope)
                if market_ids:
                    yield _Scope(market_ids, region_name if scope.id == region.id else scope.name, scope.level)
    if national:
        yield _Scope(None, None)


def _answering_record(
    session: Session, names: Catalog, product: ProductEntry, region_name: Optional[str],
    as_of: Optional[dt.date] = None,
) -> Optional[Tuple[Row, _Scope]]:
    """The record that answers for the region (or the nearest wider scope that has one), and that scope.

    For the whole country a national figure answers when there is one, else the newest record anywhere.
    """
    for scope in _scopes(names, region_name):
        if scope.markets is None:
            national_ids = names.national_market_ids()
            record = _newest_record(session, product, national_ids, as_of) if national_ids else None
            if record is not None:
                return record, scope
        record = _newest_record(session, product, scope.markets, as_of)
        if record is not None:
            return record, scope
    return None


def _market_scope(names: Catalog, market_id: int) -> str:
    market = names.market_with_id(market_id)
    return market.scope if market is not None else LOCAL


def _newest_per_market_statement(within_markets: bool):
    # Each market's newest day from the (product_id, report_date) index, then the newest record of that day:
    # cheaper than numbering every record of the window (row_number over a partition), which most answers
    # for a whole country would do over hundreds of markets.
    product_id: BindParameter[Integer] = bindparam("product_id")
    conditions = [PriceRecord.product_id == product_id, PriceRecord.report_date >= bindparam("since"),
                  PriceRecord.report_date <= bindparam("until")]
    if within_markets:
        conditions.append(PriceRecord.market_id.in_(bindparam("market_ids", expanding=True)))
    newest_day = (
        select(PriceRecord.market_id, func.max(PriceRecord.report_date).label("day"))
        .where(*conditions)
        .group_by(PriceRecord.market_id)
        .subquery()
    )
    newest_ids = (
        select(func.max(PriceRecord.id))
        .join(newest_day, (PriceRecord.market_id == newest_day.c.market_id)
              & (PriceRecord.report_date == newest_day.c.day))
        .where(PriceRecord.product_id == product_id)
        .group_by(PriceRecord.market_id)
    )
    return (
        select(
            PriceRecord.id, PriceRecord.market_id, Market.name, Market.kind, Market.scope, PriceRecord.report_date,
            PriceRecord.min_price, PriceRecord.avg_price, PriceRecord.max_price, PriceRecord.source,
            PriceRecord.confidence, PriceRecord.note,
        )
        .join(Market, Market.id == PriceRecord.market_id)
        .where(PriceRecord.id.in_(newest_ids))
    )


# Built once, as _NEWEST: an aggregate answer runs this for most national questions.
_NEWEST_PER_MARKET = {within: _newest_per_market_statement(within) for within in (False, True)}


def _newest_per_market(
    session: Session, product: ProductEntry, markets: Optional[List[int]], since: dt.date, until: dt.date,
) -> List[Row]:
    """Each market's newest record of the product between `since` and `until` (inclusive), as plain rows (one per
    market, hundreds for a national comparison, so not ORM objects)."""
    parameters: Dict[str, Any] = {"product_id": product.id, "since": since, "until": until}
    if markets is not None:
        parameters["market_ids"] = markets
    return list(session.execute(_NEWEST_PER_MARKET[markets is not None], parameters).all())


def coverage_of(names: Catalog, quotes_by_market: Dict[int, PriceQuote]) -> Coverage:
    """How many markets, which provinces and which days some markets' quotes cover."""
    provinces = sorted({province.name for province in (
        names.province_of(market.region_id) for market in (names.market_with_id(i) for i in quotes_by_market)
        if market is not None) if province is not None})
    dates = [quote.report_date for quote in quotes_by_market.values()]
    return Coverage(len(quotes_by_market), tuple(provinces), min(dates), max(dates))


def _aggregate_quote(product: ProductEntry, quotes: List[PriceQuote], unit: str, today: dt.date) -> PriceQuote:
    """One quote standing for several markets: their lowest and highest figure and the mean, dated by the newest."""
    values = [value for value in (representative_price(q.min_price, q.avg_price, q.max_price) for q in quotes)
              if value is not None]
    newest = max(quote.report_date for quote in quotes)
    sources: List[str] = []
    for quote in quotes:
        if quote.source not in sources:
            sources.append(quote.source)
    return PriceQuote(
        product=product.name,
        market="多地参考",
        market_kind="多地",
        report_date=newest,
        unit=unit,
        min_price=min(values),
        avg_price=_mean(values),
        max_price=max(values),
        source="、".join(sources[:3]) + ("等" if len(sources) > 3 else ""),
        confidence="U" if any(quote.confidence == "U" for quote in quotes) else "V2",
        note=None,
        age_days=(today - newest).days,
    )


def _answer(
    session: Session, names: Catalog, product: ProductEntry, region_name: Optional[str], record: Row, scope: _Scope,
    unit: str, today: dt.date,
) -> LatestPrice:
    """The answer the record found for `scope` gives: itself when it is a national or regional figure or the
    only market of comparable date in scope, else the aggregate of every market of comparable date there."""
    requested = region_name or None
    level = scope.level
    basis = _market_scope(names, record.market_id)
    quote = _quote(product, record, record, unit, today)
    if basis in (NATIONAL, REGIONAL) or scope.level == "market":
        return LatestPrice(quote, requested, scope.answered_region, basis, level)
    rows = _newest_per_market(session, product, scope.markets, record.report_date - dt.timedelta(days=COMPARABLE_DAYS),
                              record.report_date)
    nearby = {row.market_id: _quote(product, row, row, unit, today) for row in rows if row.scope != NATIONAL}
    if len(nearby) < 2:
        return LatestPrice(quote, requested, scope.answered_region, LOCAL, level)
    ordered = sorted(nearby.values(), key=lambda q: representative_price(q.min_price, q.avg_price, q.max_price)
                     or Decimal(0), reverse=True)
    return LatestPrice(_aggregate_quote(product, ordered, unit, today), requested, scope.answered_region, SEVERAL,
                       level, coverage_of(names, nearby), tuple(ordered))


def latest_price(
    session: Session,
    product_name: str,
    region_name: Optional[str] = None,
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
    as_of: Optional[dt.date] = None,
) -> Optional[LatestPrice]:
    """Newest price of a product, in a market or region if named, else falling back to wider regions, then national.

    A national figure answers for the whole country; without one, the markets anywhere do, as one
    aggregate with its coverage when several have prices of comparable dates, else the one market,
    named as local (`basis`). With `as_of` ("上个月呢"), the newest price on or before that day.
    Returns None when the product is unknown or has no price anywhere (up to `as_of`).
    """
    today = today or local_today()
    names = catalog(session)
    product = names.product(product_name)
    if product is None:
        return None
    found = _answering_record(session, names, product, region_name, as_of)
    if found is None:
        return None
    record, scope = found
    return _answer(session, names, product, region_name, record, scope, unit, today)


def previous_quote(session: Session, answer: LatestPrice, unit: str = DEFAULT_ASKED_UNIT) -> Optional[PriceQuote]:
    """The price before the answer's, of the same market and source (the newest earlier record): what an alert
    says the price changed from. None for an aggregate of several markets or a first record."""
    if answer.basis == SEVERAL:
        return None
    quote = answer.quote
    record = session.scalars(
        select(PriceRecord)
        .join(Market, Market.id == PriceRecord.market_id)
        .join(Product, Product.id == PriceRecord.product_id)
        .where(Product.name == quote.product, Market.name == quote.market, PriceRecord.source == quote.source,
               PriceRecord.report_date < quote.report_date)
        .order_by(PriceRecord.report_date.desc())
        .limit(1)
    ).first()
    today = quote.report_date + dt.timedelta(days=quote.age_days)
    return quote_from_record(record, quote.unit or unit, today) if record is not None else None


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
    # What the series stands on: NATIONAL, REGIONAL or LOCAL (the scope of its one market).
    basis: str = NATIONAL
    answered_level: Optional[str] = None

    @property
    def enough_data(self) -> bool:
        """False when the window holds a single day, so there is nothing to compare."""
        return len(self.points) > 1

    @property
    def change(self) -> Decimal:
        """last - first, in the asked unit."""
        return self.last.price - self.first.price

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
    region fallback; for the whole country a national figure when there is one), so the trend never
    mixes markets and its first and last points are comparable. The window ends at the newest
    record, not today, so an old series still has a trend; `age_days` says how old it is. Returns
    None when the product is unknown or has no price.
    """
    today = today or local_today()
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
        basis=_market_scope(names, newest.market_id),
        answered_level=scope.level,
    )


@dataclass(frozen=True)
class MarketComparison:
    """The answer to "哪里卖得贵": each market's newest price of comparable date, the extremes, region vs national."""

    product: str
    unit: str
    # Each market's newest record within the window, highest first.
    quotes: List[PriceQuote]
    # None unless at least two markets (national figures aside) can be compared.
    highest: Optional[PriceQuote]
    lowest: Optional[PriceQuote]
    # The national figure when a national market recorded one, else the mean of the markets compared.
    national_price: Optional[Decimal]
    national_basis: str
    # Mean of the markets in the farmer's region (or the nearest wider region that has any).
    regional_price: Optional[Decimal]
    regional_quotes: List[PriceQuote]
    # (regional - national) / national in percent, to one decimal.
    regional_vs_national_percent: Optional[Decimal]
    requested_region: Optional[str]
    answered_region: Optional[str]
    # True when national_price is a national figure (a national market's record), not a mean of markets.
    national_is_national: bool = False
    # The markets compared (national figures aside), their provinces and days.
    coverage: Optional[Coverage] = None

    @property
    def market_count(self) -> int:
        """How many markets (national figures aside) the comparison covers."""
        return self.coverage.markets if self.coverage is not None else 0

    @property
    def fell_back(self) -> bool:
        """True when the farmer named a region but the regional figure comes from a wider one."""
        return self.requested_region is not None and self.answered_region != self.requested_region


def _mean(values: List[Decimal]) -> Optional[Decimal]:
    # Four places, the precision prices are stored with.
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.0001")) if values else None


def _value(quote: PriceQuote) -> Optional[Decimal]:
    return representative_price(quote.min_price, quote.avg_price, quote.max_price)


def compare_markets(
    session: Session,
    product_name: str,
    region_name: Optional[str] = None,
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
    window_days: int = COMPARABLE_DAYS,
) -> Optional[MarketComparison]:
    """Compare a product's newest price across markets: highest, lowest, and the farmer's region against national.

    Each market contributes its newest record from the `window_days` before the product's newest
    record, so a market that stopped reporting long ago is not compared with today's prices.
    National figures are the national reference, never a market compared; highest and lowest need
    two markets at least. Returns None when the product is unknown or has no price.
    """
    today = today or local_today()
    names = catalog(session)
    product = names.product(product_name)
    if product is None:
        return None
    newest = session.scalar(select(func.max(PriceRecord.report_date)).where(PriceRecord.product_id == product.id))
    if newest is None:
        return None
    rows = _newest_per_market(session, product, None, newest - dt.timedelta(days=window_days), newest)
    quotes: Dict[int, PriceQuote] = {row.market_id: _quote(product, row, row, unit, today) for row in rows}
    scopes = {row.market_id: row.scope for row in rows}
    values: Dict[int, Decimal] = {i: value for i, value in ((i, _value(q)) for i, q in quotes.items())
                                  if value is not None}
    compared = sorted((i for i in quotes if scopes[i] != NATIONAL and i in values),
                      key=lambda market_id: values[market_id], reverse=True)
    national_ids = [i for i in quotes if scopes[i] == NATIONAL and i in values]
    national_is_national = bool(national_ids)
    if national_ids:
        national_id = max(national_ids, key=lambda i: (quotes[i].report_date, -i))
        national_price: Optional[Decimal] = values[national_id]
        national_basis = quotes[national_id].market
    else:
        national_price = _mean([values[market_id] for market_id in compared])
        national_basis = "多地平均"

    regional_ids: List[int] = []
    answered: Optional[str] = None
    if region_name:
        for scope in _scopes(names, region_name, national=False):
            in_scope: Set[int] = set(scope.markets or ())
            regional_ids = [market_id for market_id in compared if market_id in in_scope]
            if regional_ids:
                answered = scope.answered_region
                break
    regional_price = _mean([values[market_id] for market_id in regional_ids])
    difference = (
        _percent(national_price, regional_price)
        if regional_price is not None and national_price is not None and national_is_national
        else None
    )
    ordered = sorted(quotes, key=lambda market_id: values.get(market_id, Decimal(-1)), reverse=True)
    return MarketComparison(
        product=product.name,
        unit=unit,
        quotes=[quotes[market_id] for market_id in ordered],
        highest=quotes[compared[0]] if len(compared) > 1 else None,
        lowest=quotes[compared[-1]] if len(compared) > 1 else None,
        national_price=national_price,
        national_basis=national_basis,
        regional_price=regional_price,
        regional_quotes=[quotes[market_id] for market_id in regional_ids],
        regional_vs_national_percent=difference,
        requested_region=region_name or None,
        answered_region=answered,
        national_is_national=national_is_national,
        coverage=coverage_of(names, {i: quotes[i] for i in compared}) if compared else None,
    )


@dataclass(frozen=True)
class PlaceFigure:
    """One place of a comparison between places: the mean of its markets of comparable date, or nothing."""

    asked: str
    # The region (or market) whose markets answer; a wider region than asked when `fell_back`.
    answered_region: Optional[str]
    answered_level: Optional[str]
    price: Optional[Decimal]
    quotes: Tuple[PriceQuote, ...]
    coverage: Optional[Coverage]

    @property
    def fell_back(self) -> bool:
        """True when a wider region than the place asked for answers."""
        return self.answered_region is not None and self.answered_region != self.asked


@dataclass(frozen=True)
class PlaceComparison:
    """The answer to "郑州和石家庄哪里的白菜便宜": each place's figure, and which is cheapest and dearest."""

    product: str
    unit: str
    places: List[PlaceFigure]
    # False when the places' newest prices are more than COMPARABLE_DAYS apart or two places share a figure.
    comparable: bool
    cheapest: Optional[PlaceFigure]
    dearest: Optional[PlaceFigure]

    @property
    def difference(self) -> Optional[Decimal]:
        """How much dearer the dearest place is than the cheapest, per unit."""
        if self.cheapest is None or self.dearest is None:
            return None
        assert self.cheapest.price is not None and self.dearest.price is not None
        return self.dearest.price - self.cheapest.price


def compare_places(
    session: Session,
    product_name: str,
    places: List[str],
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
) -> Optional[PlaceComparison]:
    """Compare a product's price between the places a farmer names, each from its own markets (or the nearest
    wider region below 全国 that has any, named), as the mean of its markets of comparable date.

    Never answers a place with another place's or the national figure. Returns None for an unknown product.
    """
    today = today or local_today()
    names = catalog(session)
    product = names.product(product_name)
    if product is None:
        return None
    figures: List[PlaceFigure] = []
    for place in places:
        figure = PlaceFigure(place, None, None, None, (), None)
        for scope in _scopes(names, place, national=False):
            record = _newest_record(session, product, scope.markets)
            if record is None:
                continue
            rows = _newest_per_market(session, product, scope.markets,
                                      record.report_date - dt.timedelta(days=COMPARABLE_DAYS), record.report_date)
            quotes = {row.market_id: _quote(product, row, row, unit, today) for row in rows}
            values = [value for value in (_value(q) for q in quotes.values()) if value is not None]
            figure = PlaceFigure(place, scope.answered_region, scope.level, _mean(values),
                                 tuple(sorted(quotes.values(), key=lambda q: q.market)), coverage_of(names, quotes))
            break
        figures.append(figure)
    priced = [figure for figure in figures if figure.price is not None]
    comparable = len(priced) > 1
    if comparable:
        last_dates = [figure.coverage.last_date for figure in priced if figure.coverage is not None]
        answered = [figure.answered_region for figure in priced]
        comparable = (max(last_dates) - min(last_dates)).days <= COMPARABLE_DAYS and len(set(answered)) == len(answered)
    ranked = sorted(priced, key=lambda figure: figure.price or Decimal(0))
    return PlaceComparison(
        product=product.name,
        unit=unit,
        places=figures,
        comparable=comparable,
        cheapest=ranked[0] if comparable else None,
        dearest=ranked[-1] if comparable else None,
    )


def newest_report_dates(session: Session) -> Dict[str, dt.date]:
    """The newest report date of each product that has prices, by product name (stale-price monitoring)."""
    rows = session.execute(
        select(Product.name, func.max(PriceRecord.report_date))
        .join(PriceRecord, PriceRecord.product_id == Product.id).group_by(Product.name)
    ).all()
    return {name: newest for name, newest in rows if newest is not None}
