"""Price alerts and daily digests due to subscribed farmers, added to the push queue (worded by the caller).

Price changes come from other processes (the CLI import, the console, /setprice). The scheduler
reads price_record by updated_at from a cursor kept in the database (push_cursor), looking back
PRICE_LOOKBACK each time because an import's rows carry the time it started, not the time it
committed. Re-reading is harmless: an alert is only written when the subscription's answering
price differs from the one last pushed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from knowledge.catalog.snapshot import Catalog, catalog
from knowledge.models import Market, PriceRecord, Product, Push, PushCursor, Subscription, utcnow
from knowledge.outbox.queue import enqueue_push_rows
from knowledge.prices.by_place import price_in_place
from knowledge.prices.queries import LatestPrice, PriceQuote, previous_quote, representative_price

PRICE_LOOKBACK = dt.timedelta(minutes=15)
PRICE_CURSOR = "price_record"
THRESHOLD_RULES = ("above", "below")


@dataclass(frozen=True)
class DuePriceMessage:
    """What one alert or digest is to tell a farmer, before it is worded (wording.price_push_text words it)."""

    kind: str  # "price_alert" or "daily_digest"
    product: str
    rule: str
    threshold: Optional[Decimal]
    # The price a question about the product and region would get now; None: no price yet (digests only).
    answer: Optional[LatestPrice]
    # For an alert: the same market's price before this one (what it changed from), when there is one.
    previous: Optional[PriceQuote] = None


# Words a due message for the farmer; the gateway passes wording.price_push_text with its settings.
PushWriter = Callable[[DuePriceMessage], str]


def _fingerprint(answer: LatestPrice) -> str:
    quote = answer.quote
    parts = (quote.product, quote.market, quote.report_date.isoformat(), quote.source,
             *(str(value) for value in (quote.min_price, quote.avg_price, quote.max_price)))
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:40]


def _beyond_threshold(subscription: Any, answer: LatestPrice) -> bool:
    quote = answer.quote
    price: Optional[Decimal] = representative_price(quote.min_price, quote.avg_price, quote.max_price)
    if price is None or subscription.threshold is None:
        return False
    threshold = Decimal(subscription.threshold)
    return price > threshold if subscription.rule == "above" else price < threshold


def _read_cursor(session: Session, name: str) -> Optional[PushCursor]:
    return session.get(PushCursor, name)


def changed_products(session: Session, since: dt.datetime) -> Tuple[Set[int], Optional[dt.datetime]]:
    """Ids of products with price records written after `since`, and the newest such write time."""
    rows = session.execute(
        select(PriceRecord.product_id, func.max(PriceRecord.updated_at))
        .where(PriceRecord.updated_at > since)
        .group_by(PriceRecord.product_id)
    ).all()
    return {row[0] for row in rows}, max((row[1] for row in rows), default=None)


@dataclass(frozen=True)
class _Subscriber:
    """The columns of a subscription a push round needs, read in one query."""

    id: int
    farmer_id: int
    product: str
    region: Optional[str]
    rule: str
    threshold: Optional[Decimal]
    daily_hour: Optional[int]
    created_at: dt.datetime


def _subscribers(session: Session, *conditions) -> List[_Subscriber]:
    rows = session.execute(
        select(Subscription.id, Subscription.farmer_id, Product.name, Subscription.region_id, Subscription.rule,
               Subscription.threshold, Subscription.daily_hour, Subscription.created_at)
        .join(Product, Product.id == Subscription.product_id)
        .where(Subscription.active.is_(True), *conditions)
        .order_by(Subscription.id)
    ).all()
    names = catalog(session)
    return [_Subscriber(row[0], row[1], row[2], _region_words(names, row[3]), *row[4:]) for row in rows]


def _region_words(names: Catalog, region_id: Optional[int]) -> Optional[str]:
    """The subscription's region as a question would name it: its name, or its label when places share the name
    (four 鼓楼区: "福建省福州市鼓楼区"), so the alert answers for that one place."""
    region = names.region_with_id(region_id) if region_id is not None else None
    if region is None:
        return None
    return region.name if len(names.regions_named(region.name)) == 1 else names.label(region)


class _Answers:
    """latest_price per (product, region), asked once per round however many farmers share it."""

    def __init__(self, session: Session, today: dt.date) -> None:
        self._session, self._today = session, today
        self._answers: Dict[Tuple[str, Optional[str]], Optional[LatestPrice]] = {}
        self._written: Dict[Tuple[str, Optional[str]], Optional[dt.datetime]] = {}
        self._previous: Dict[Tuple[str, Optional[str]], Optional[PriceQuote]] = {}

    def answer(self, product: str, region: Optional[str]) -> Optional[LatestPrice]:
        """The price a farmer asking about `product` in `region` would get now."""
        if (product, region) not in self._answers:
            # As the farmer's question is answered (knowledge.prices.by_place), fallback wording included.
            self._answers[(product, region)] = price_in_place(self._session, product, region, today=self._today)
        return self._answers[(product, region)]

    def previous(self, product: str, region: Optional[str]) -> Optional[PriceQuote]:
        """The price before that answer's, of the same market and source (what an alert says it changed from)."""
        if (product, region) not in self._previous:
            answer = self.answer(product, region)
            self._previous[(product, region)] = None if answer is None else previous_quote(self._session, answer)
        return self._previous[(product, region)]

    def written_at(self, product: str, region: Optional[str]) -> Optional[dt.datetime]:
        """When the record behind that answer was last written."""
        if (product, region) not in self._written:
            answer = self.answer(product, region)
            self._written[(product, region)] = None if answer is None else _record_updated_at(self._session, answer)
        return self._written[(product, region)]


def _record_updated_at(session: Session, answer: LatestPrice) -> Optional[dt.datetime]:
    if answer.quotes:
        # An aggregate of several markets was written when the newest of its records was.
        times = [_quote_updated_at(session, quote) for quote in answer.quotes]
        return max((time for time in times if time is not None), default=None)
    return _quote_updated_at(session, answer.quote)


def _quote_updated_at(session: Session, quote: PriceQuote) -> Optional[dt.datetime]:
    return session.scalars(
        select(PriceRecord.updated_at)
        .join(Market, Market.id == PriceRecord.market_id)
        .join(Product, Product.id == PriceRecord.product_id)
        .where(Product.name == quote.product, Market.name == quote.market,
               PriceRecord.report_date == quote.report_date, PriceRecord.source == quote.source)
    ).first()


def _last_alerts(session: Session, subscription_filter) -> Dict[int, Tuple[int, Optional[str]]]:
    """subscription id → (id, fingerprint) of its latest price alert, for the subscriptions the filter selects."""
    newest = (
        select(func.max(Push.id))
        .where(Push.kind == "price_alert", Push.subscription_id.in_(subscription_filter))
        .group_by(Push.subscription_id)
    )
    rows = session.execute(select(Push.subscription_id, Push.id, Push.fingerprint).where(Push.id.in_(newest)))
    return {row.subscription_id: (row.id, row.fingerprint) for row in rows}


def _push_row(key: str, kind: str, subscriber: _Subscriber, text: str, now: dt.datetime,
              fingerprint: Optional[str] = None) -> Dict[str, Any]:
    return {"push_key": key, "kind": kind, "farmer_id": subscriber.farmer_id, "subscription_id": subscriber.id,
            "handoff_ticket_id": None, "fingerprint": fingerprint, "text": text, "status": "pending",
            "attempts": 0, "next_attempt_at": now, "created_at": now}


def enqueue_price_alerts(
    session: Session, today: dt.date, write: PushWriter, now: Optional[dt.datetime] = None
) -> int:
    """Alerts for subscriptions whose product has new or updated prices; returns how many were added.

    The cursor starts at the first run's time: subscriptions are about changes from then on.
    """
    now = now or utcnow()
    cursor = _read_cursor(session, PRICE_CURSOR)
    if cursor is None:
        session.add(PushCursor(name=PRICE_CURSOR, position=now))
        session.flush()
        since = now - PRICE_LOOKBACK
    else:
        since = cursor.position - PRICE_LOOKBACK
    products, newest = changed_products(session, since)
    if not products:
        return 0
    conditions = (Subscription.rule.in_(("any_change", *THRESHOLD_RULES)), Subscription.product_id.in_(products))
    subscribers = _subscribers(session, *conditions)
    last_alerts = _last_alerts(session, select(Subscription.id).where(Subscription.active.is_(True), *conditions))
    answers = _Answers(session, today)
    rows = []
    for subscriber in subscribers:
        row = _alert_row(subscriber, answers, last_alerts.get(subscriber.id), write, now)
        if row is not None:
            rows.append(row)
    added = enqueue_push_rows(session, rows)
    if newest is not None:
        # Forward only: the cursor never goes back, whatever order processes commit in.
        session.execute(update(PushCursor).where(PushCursor.name == PRICE_CURSOR, PushCursor.position < newest)
                        .values(position=newest))
    return added


def _alert_row(subscriber: _Subscriber, answers: _Answers, last: Optional[Tuple[int, Optional[str]]],
               write: PushWriter, now: dt.datetime) -> Optional[Dict[str, Any]]:
    answer = answers.answer(subscriber.product, subscriber.region)
    if answer is None:
        return None
    fingerprint = _fingerprint(answer)
    if last is not None:
        if last[1] == fingerprint:
            return None
    else:
        # Never alerted: only a price written after the farmer subscribed is news to them.
        written = answers.written_at(subscriber.product, subscriber.region)
        if written is None or written <= subscriber.created_at:
            return None
    if subscriber.rule in THRESHOLD_RULES and not _beyond_threshold(subscriber, answer):
        return None
    # The key names the alert that follows the last one, so two processes seeing the same change
    # write the same key and only one row.
    key = f"price:{subscriber.id}:{fingerprint[:16]}:{last[0] if last is not None else 0}"
    text = write(DuePriceMessage("price_alert", subscriber.product, subscriber.rule, subscriber.threshold, answer,
                                 answers.previous(subscriber.product, subscriber.region)))
    return _push_row(key, "price_alert", subscriber, text, now, fingerprint)


def enqueue_daily_digests(
    session: Session, local_now: dt.datetime, today: dt.date, write: PushWriter, now: Optional[dt.datetime] = None
) -> int:
    """Today's digest for every daily subscription whose hour has come (local time); returns how many were added.

    A gateway that was down at the hour sends the digest when it is back, the same day.
    """
    now = now or utcnow()
    local_date = local_now.date()
    # The hour of the subscription, in UTC: a subscription made after today's hour starts tomorrow.
    offset = local_now.replace(tzinfo=None) - now
    subscribers = _subscribers(session, Subscription.rule == "daily", Subscription.daily_hour <= local_now.hour)
    # Today's digests already written, in one query rather than one per subscription.
    local_midnight = dt.datetime.combine(local_date, dt.time()) - offset
    done = set(session.scalars(
        select(Push.push_key).where(Push.kind == "daily_digest", Push.created_at >= local_midnight)
    ))
    answers = _Answers(session, today)
    rows = []
    for subscriber in subscribers:
        slot = dt.datetime.combine(local_date, dt.time(hour=subscriber.daily_hour or 0)) - offset
        key = f"daily:{subscriber.id}:{local_date.isoformat()}"
        if subscriber.created_at > slot or key in done:
            continue
        answer = answers.answer(subscriber.product, subscriber.region)
        text = write(DuePriceMessage("daily_digest", subscriber.product, subscriber.rule, subscriber.threshold, answer))
        rows.append(_push_row(key, "daily_digest", subscriber, text, now))
    return enqueue_push_rows(session, rows)
