"""The push outbox: which pushes are due (price alerts, daily digests, officers' answers), and claiming,
sending and settling them so that a restart neither loses nor repeats one.

Every logical push has a unique key. Noticing a push only inserts its row (INSERT … ON CONFLICT DO
NOTHING), so any number of gateway processes may scan at once. Sending starts with a claim, a
conditional UPDATE that only one process can win; a process that dies while sending leaves a
claim that expires after PUSH_LEASE and is then retried (at least once: the window for a repeat
is the moment between Telegram's answer and our commit).

Price changes come from other processes (the CLI import, the console, /setprice). The scheduler
reads price_record by updated_at from a cursor kept in the database (push_cursor), looking back
PRICE_LOOKBACK each time because an import's rows carry the time it started, not the time it
committed. Re-reading is harmless: an alert is only written when the subscription's answering
price differs from the one last pushed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional, Set, Tuple

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from knowledge.db import insert_or_ignore, insert_or_ignore_many
from knowledge.models import (
    Farmer,
    HandoffTicket,
    Market,
    PriceRecord,
    Product,
    Push,
    PushCursor,
    Region,
    Subscription,
    utcnow,
)
from knowledge.price_wording import describe_price
from knowledge.prices import LatestPrice, latest_price, representative_price
from knowledge.units import format_price

logger = logging.getLogger(__name__)

PUSH_LEASE = dt.timedelta(minutes=5)
PRICE_LOOKBACK = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 6
PRICE_CURSOR = "price_record"
THRESHOLD_RULES = ("above", "below")
# claimed_by of a push offered to a web chat page and not yet acknowledged by it.
WEBCHAT_CLAIM = "webchat"


@dataclass(frozen=True)
class PushJob:
    """A claimed push, ready to send."""

    id: int
    kind: str
    chat_id: str
    text: str
    attempts: int


# --- writing pushes ------------------------------------------------------------------------------

def enqueue_push(
    session: Session,
    push_key: str,
    kind: str,
    farmer_id: int,
    text: str,
    subscription_id: Optional[int] = None,
    handoff_ticket_id: Optional[int] = None,
    fingerprint: Optional[str] = None,
    now: Optional[dt.datetime] = None,
) -> bool:
    """Add a pending push unless one with this key exists; True when this call added it."""
    now = now or utcnow()
    values = {
        "push_key": push_key, "kind": kind, "farmer_id": farmer_id, "subscription_id": subscription_id,
        "handoff_ticket_id": handoff_ticket_id, "fingerprint": fingerprint, "text": text, "status": "pending",
        "attempts": 0, "next_attempt_at": now, "created_at": now,
    }
    return insert_or_ignore(session, Push.__table__, values, ["push_key"])


# --- handoff answers -----------------------------------------------------------------------------

def handoff_answer_text(ticket: HandoffTicket) -> str:
    """The farmer's message for an officer's answer: their question, the answer, and who answered."""
    question = ticket.question if len(ticket.question) <= 60 else ticket.question[:60] + "…"
    who = ""
    if ticket.assignee is not None:
        who = f"\n——{ticket.assignee.display_name or ticket.assignee.username}（信息员）"
    return f"【信息员回复】您问的“{question}”：\n{ticket.answer}{who}"


def enqueue_handoff_answers(session: Session, now: Optional[dt.datetime] = None) -> int:
    """A push for every answered ticket that has none yet; returns how many were added."""
    has_push = exists().where(Push.handoff_ticket_id == HandoffTicket.id)
    tickets = session.scalars(
        select(HandoffTicket).where(HandoffTicket.status == "answered", ~has_push).order_by(HandoffTicket.id)
    ).all()
    added = 0
    for ticket in tickets:
        if not (ticket.answer or "").strip():
            continue
        added += enqueue_push(session, f"handoff:{ticket.id}", "handoff_answer", ticket.farmer_id,
                              handoff_answer_text(ticket), handoff_ticket_id=ticket.id, now=now)
    return added


# --- price alerts --------------------------------------------------------------------------------

def _fingerprint(answer: LatestPrice) -> str:
    quote = answer.quote
    parts = (quote.product, quote.market, quote.report_date.isoformat(), quote.source,
             *(str(value) for value in (quote.min_price, quote.avg_price, quote.max_price)))
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:40]


def alert_text(subscription: Any, answer: LatestPrice, heading: str, stale_after_days: int) -> str:
    """An alert or digest line: product, scope, price, market, date and source (and age, when old)."""
    quote = answer.quote
    scope = f"（{answer.answered_region}）" if answer.answered_region else ""
    text = (f"【{heading}】{quote.product}{scope}：{describe_price(quote)}"
            f"（{quote.market}，{quote.report_date.isoformat()}）。来源：{quote.source}。")
    if subscription.rule in THRESHOLD_RULES and subscription.threshold is not None:
        word = "高于" if subscription.rule == "above" else "低于"
        text += f"已{word}您设的{format_price(subscription.threshold)}元/斤。"
    if quote.age_days > stale_after_days:
        text += f"最新数据为{quote.report_date.isoformat()}，距今{quote.age_days}天，仅供参考。"
    if answer.requested_region and answer.fell_back:
        text += f"{answer.requested_region}暂时没有数据，这是{answer.answered_region or '全国'}的价格。"
    return text + "\n回复“取消订阅”可以停止提醒。"


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
        select(Subscription.id, Subscription.farmer_id, Product.name, Region.name, Subscription.rule,
               Subscription.threshold, Subscription.daily_hour, Subscription.created_at)
        .join(Product, Product.id == Subscription.product_id)
        .outerjoin(Region, Region.id == Subscription.region_id)
        .where(Subscription.active.is_(True), *conditions)
        .order_by(Subscription.id)
    ).all()
    return [_Subscriber(*row) for row in rows]


class _Answers:
    """latest_price per (product, region), asked once per round however many farmers share it."""

    def __init__(self, session: Session, today: dt.date) -> None:
        self._session, self._today = session, today
        self._answers: Dict[Tuple[str, Optional[str]], Optional[LatestPrice]] = {}
        self._written: Dict[Tuple[str, Optional[str]], Optional[dt.datetime]] = {}

    def answer(self, product: str, region: Optional[str]) -> Optional[LatestPrice]:
        """The price a farmer asking about `product` in `region` would get now."""
        if (product, region) not in self._answers:
            self._answers[(product, region)] = latest_price(self._session, product, region, today=self._today)
        return self._answers[(product, region)]

    def written_at(self, product: str, region: Optional[str]) -> Optional[dt.datetime]:
        """When the record behind that answer was last written."""
        if (product, region) not in self._written:
            answer = self.answer(product, region)
            self._written[(product, region)] = None if answer is None else _record_updated_at(self._session, answer)
        return self._written[(product, region)]


def _record_updated_at(session: Session, answer: LatestPrice) -> Optional[dt.datetime]:
    quote = answer.quote
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


def _enqueue_many(session: Session, rows: List[Dict[str, Any]]) -> int:
    added = 0
    for start in range(0, len(rows), 500):
        added += insert_or_ignore_many(session, Push.__table__, rows[start:start + 500], ["push_key"])
    return added


def _push_row(key: str, kind: str, subscriber: _Subscriber, text: str, now: dt.datetime,
              fingerprint: Optional[str] = None) -> Dict[str, Any]:
    return {"push_key": key, "kind": kind, "farmer_id": subscriber.farmer_id, "subscription_id": subscriber.id,
            "handoff_ticket_id": None, "fingerprint": fingerprint, "text": text, "status": "pending",
            "attempts": 0, "next_attempt_at": now, "created_at": now}


def enqueue_price_alerts(
    session: Session, today: dt.date, stale_after_days: int, now: Optional[dt.datetime] = None
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
        row = _alert_row(subscriber, answers, last_alerts.get(subscriber.id), stale_after_days, now)
        if row is not None:
            rows.append(row)
    added = _enqueue_many(session, rows)
    if newest is not None:
        # Forward only: the cursor never goes back, whatever order processes commit in.
        session.execute(update(PushCursor).where(PushCursor.name == PRICE_CURSOR, PushCursor.position < newest)
                        .values(position=newest))
    return added


def _alert_row(subscriber: _Subscriber, answers: _Answers, last: Optional[Tuple[int, Optional[str]]],
               stale_after_days: int, now: dt.datetime) -> Optional[Dict[str, Any]]:
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
    return _push_row(key, "price_alert", subscriber, alert_text(subscriber, answer, "价格提醒", stale_after_days),
                     now, fingerprint)


def enqueue_daily_digests(
    session: Session, local_now: dt.datetime, today: dt.date, stale_after_days: int, now: Optional[dt.datetime] = None
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
        if answer is None:
            text = f"【每日价格】暂时没有{subscriber.product}的价格数据，有了新数据会再告诉您。"
        else:
            text = alert_text(subscriber, answer, "每日价格", stale_after_days)
        rows.append(_push_row(key, "daily_digest", subscriber, text, now))
    return _enqueue_many(session, rows)


# --- claiming and settling -----------------------------------------------------------------------

def _claimable(now: dt.datetime):
    return or_(
        and_(Push.status == "pending", Push.next_attempt_at <= now),
        and_(Push.status == "sending", Push.claimed_at < now - PUSH_LEASE),
    )


def _claimed_jobs(session: Session, chats: Dict[int, str]) -> List[PushJob]:
    """The claimed pushes' kind, text and attempts, read after the claim: what the winner sends."""
    if not chats:
        return []
    rows = session.execute(
        select(Push.id, Push.kind, Push.text, Push.attempts).where(Push.id.in_(list(chats))).order_by(Push.id)
    ).all()
    by_id = {row.id: row for row in rows}
    return [PushJob(push_id, by_id[push_id].kind, chat_id, by_id[push_id].text, by_id[push_id].attempts)
            for push_id, chat_id in chats.items() if push_id in by_id]


def claim_telegram_pushes(session: Session, worker: str, limit: int = 50,
                          now: Optional[dt.datetime] = None) -> List[PushJob]:
    """Claim due pushes to Telegram farmers for this worker; commit before sending, so others skip them.

    The text is read only after the claim: an officer's answer may be rewritten until the claim
    (console.handoff_answers), so text read before it could be an answer already replaced.
    """
    now = now or utcnow()
    candidates = session.execute(
        select(Push.id, Farmer.chat_id)
        .join(Farmer, Farmer.id == Push.farmer_id)
        # Only private chats (positive ids; groups and channels have negative ones): a push is personal.
        .where(_claimable(now), Farmer.channel == "telegram", Farmer.chat_id.isnot(None),
               ~Farmer.chat_id.startswith("-"))
        .order_by(Push.next_attempt_at, Push.id)
        .limit(limit)
    ).all()
    won: Dict[int, str] = {}  # push id → chat id, in sending order
    for row in candidates:
        if session.execute(
            update(Push)
            .where(Push.id == row.id, _claimable(now))
            .values(status="sending", claimed_by=worker[:64], claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount:
            won[row.id] = str(row.chat_id)
    return _claimed_jobs(session, won)


def _settle_ticket(session: Session, push: Push, now: dt.datetime) -> None:
    if push.handoff_ticket_id is None:
        return
    session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == push.handoff_ticket_id, HandoffTicket.status == "answered")
        .values(status="delivered", delivered_at=now, updated_at=now, updated_by="gateway")
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, push_id: int, now: Optional[dt.datetime] = None) -> None:
    """Record a delivered push; a delivered officer's answer moves its ticket to "delivered"."""
    now = now or utcnow()
    push = session.get(Push, push_id)
    if push is None:
        return
    push.status, push.sent_at, push.attempts = "sent", now, push.attempts + 1
    push.last_error = None
    _settle_ticket(session, push, now)


def mark_failed(
    session: Session,
    push_id: int,
    error: str,
    permanent: bool = False,
    retry_after: Optional[float] = None,
    now: Optional[dt.datetime] = None,
) -> str:
    """Record a failed attempt: retried later with backoff, or failed for good; returns the new status."""
    now = now or utcnow()
    push = session.get(Push, push_id)
    if push is None:
        return "missing"
    push.attempts += 1
    push.last_error = error[:256]
    push.claimed_by = push.claimed_at = None
    if permanent or push.attempts >= MAX_ATTEMPTS:
        push.status = "failed"
    else:
        backoff = retry_after if retry_after is not None else min(30 * 2 ** (push.attempts - 1), 3600)
        push.status, push.next_attempt_at = "pending", now + dt.timedelta(seconds=backoff)
    return push.status


def release_claims(session: Session, push_ids: List[int]) -> None:
    """Hand back claimed pushes unsent (no attempt counted), e.g. when Telegram asks us to slow down."""
    if push_ids:
        session.execute(
            update(Push).where(Push.id.in_(push_ids), Push.status == "sending")
            .values(status="pending", claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )


def _webchat_farmer_pushes(sender_id: str):
    return select(Push.id).join(Farmer, Farmer.id == Push.farmer_id).where(Farmer.sender_id == sender_id)


def offer_webchat_pushes(session: Session, sender_id: str, now: Optional[dt.datetime] = None) -> List[Tuple[int, str]]:
    """(id, text) of the pushes a web chat farmer's page should show, oldest first.

    Pending ones are claimed for the web chat first (so an officer's answer can no longer be rewritten:
    the page shows the text of the row it claimed), but stay undelivered until the page acknowledges
    them (`acknowledge_webchat_pushes`); until then every poll offers them again.
    """
    now = now or utcnow()
    session.execute(
        update(Push)
        .where(Push.id.in_(_webchat_farmer_pushes(sender_id)), Push.status == "pending")
        .values(status="sending", claimed_by=WEBCHAT_CLAIM, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(Push.id, Push.text)
        .where(Push.id.in_(_webchat_farmer_pushes(sender_id)), Push.status == "sending",
               Push.claimed_by == WEBCHAT_CLAIM)
        .order_by(Push.id)
    ).all()
    return [(row.id, row.text) for row in rows]


def acknowledge_webchat_pushes(session: Session, sender_id: str, push_ids: List[int],
                               now: Optional[dt.datetime] = None) -> int:
    """Mark delivered the pushes the farmer's page showed (only this farmer's, only offered ones); returns how many."""
    now = now or utcnow()
    shown = session.scalars(
        select(Push.id)
        .where(Push.id.in_(_webchat_farmer_pushes(sender_id)), Push.id.in_(push_ids), Push.status == "sending",
               Push.claimed_by == WEBCHAT_CLAIM)
    ).all()
    for push_id in shown:
        mark_sent(session, push_id, now)
    return len(shown)


def push_counts(session: Session) -> Dict[str, int]:
    """How many pushes are in each status (for logs and the console)."""
    return dict(session.execute(select(Push.status, func.count(Push.id)).group_by(Push.status)).all())

