"""The dashboard's figures: messages per day, top intents, fallback and handoff rates, time to answer,
most asked products and the most frequent questions the bot did not understand."""
from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.conversations.tracker import FALLBACK_INTENT, TrackerReader
from knowledge.local_time import local_zone
from knowledge.models import Article, Farmer, HandoffTicket, Market, PriceRecord, Product

# Button presses and reactions are not questions; leaving them out keeps the rates honest.
NOT_QUESTIONS = {"feedback", "affirm", "deny", "thank", "greet", "goodbye"}


@dataclass
class DashboardFigures:
    """Everything the dashboard shows, over the last `days` days."""

    days: int
    messages_per_day: List[Tuple[str, int]] = field(default_factory=list)
    total_messages: int = 0
    conversations: int = 0
    top_intents: List[Tuple[str, int]] = field(default_factory=list)
    fallback_rate: float = 0.0
    handoff_rate: float = 0.0
    tickets: int = 0
    open_tickets: int = 0
    median_hours_to_answer: Optional[float] = None
    top_products: List[Tuple[str, int]] = field(default_factory=list)
    unanswered: List[Tuple[str, int]] = field(default_factory=list)
    knowledge: dict = field(default_factory=dict)


def knowledge_counts(session: Session) -> dict:
    """What the knowledge base holds and how fresh its prices are."""
    return {
        "products": session.scalar(select(func.count(Product.id))),
        "markets": session.scalar(select(func.count(Market.id))),
        "prices": session.scalar(select(func.count(PriceRecord.id))),
        "articles": session.scalar(select(func.count(Article.id)).where(Article.status == "published")),
        "newest_price": session.scalar(select(func.max(PriceRecord.report_date))),
    }


def _conversations_in(session: Session, region_ids: Set[int]) -> Set[str]:
    """The conversations of farmers in those regions and of tickets opened there."""
    if not region_ids:
        return set()
    farmers = session.scalars(select(Farmer.sender_id).where(Farmer.region_id.in_(region_ids)))
    tickets = session.scalars(select(HandoffTicket.conversation_id).where(HandoffTicket.region_id.in_(region_ids)))
    return set(farmers) | set(tickets)


def dashboard_figures(
    session: Session, tracker: TrackerReader, today: dt.date, days: int = 30, region_ids: Optional[Set[int]] = None,
    zone: Optional[dt.tzinfo] = None,
) -> DashboardFigures:
    """Compute the dashboard for the `days` days up to and including `today`, days counted in `zone` (TIMEZONE):
    a farmer's message at 07:00 Beijing time counts on that Beijing day, not the UTC day before.

    With `region_ids` (an officer's regions), the conversation figures count only those regions' farmers and
    the ticket figures only their tickets; the knowledge counts stay whole (the knowledge base is public).
    """
    zone = zone or local_zone()
    start_day = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(start_day, dt.time(), zone)
    figures = DashboardFigures(days=days, knowledge=knowledge_counts(session))
    scope = _conversations_in(session, region_ids) if region_ids is not None else None

    per_day: Counter = Counter()
    intents: Counter = Counter()
    products: Counter = Counter()
    unanswered: Counter = Counter()
    senders = set()
    questions = fallbacks = 0
    for message in tracker.user_messages_since(start.timestamp(), scope):
        day = dt.datetime.fromtimestamp(message.timestamp, zone).date()
        per_day[day] += 1
        senders.add(message.sender_id)
        if message.intent in NOT_QUESTIONS or message.text.startswith("/"):
            continue
        questions += 1
        intents[message.intent or "（无）"] += 1
        if message.intent == FALLBACK_INTENT:
            fallbacks += 1
            unanswered[" ".join(message.text.split())] += 1
        for entity in message.entities:
            if entity.get("entity") == "product" and entity.get("value"):
                products[str(entity["value"])] += 1

    figures.messages_per_day = [
        ((start_day + dt.timedelta(days=offset)).strftime("%m-%d"), per_day[start_day + dt.timedelta(days=offset)])
        for offset in range(days)
    ]
    figures.total_messages = sum(per_day.values())
    figures.conversations = len(senders)
    figures.top_intents = intents.most_common(8)
    figures.top_products = products.most_common(8)
    figures.unanswered = unanswered.most_common(10)
    figures.fallback_rate = fallbacks / questions if questions else 0.0

    naive_start = start.replace(tzinfo=None)
    recent = (
        select(HandoffTicket.conversation_id, HandoffTicket.status, HandoffTicket.created_at, HandoffTicket.answered_at)
        .where(HandoffTicket.created_at >= naive_start)
    )
    if region_ids is not None:
        recent = recent.where(HandoffTicket.region_id.in_(region_ids))
    tickets = session.execute(recent).all()
    figures.tickets = len(tickets)
    figures.open_tickets = sum(1 for ticket in tickets if ticket.status == "open")
    handed_off = {ticket.conversation_id for ticket in tickets}
    figures.handoff_rate = len(handed_off & senders) / len(senders) if senders else 0.0
    waits = [(ticket.answered_at - ticket.created_at).total_seconds() / 3600
             for ticket in tickets if ticket.answered_at is not None]
    figures.median_hours_to_answer = statistics.median(waits) if waits else None
    return figures
