"""Where a ticket goes when the farmer's home is unknown, and tickets nobody answered moving one region up.

An installation serves one county or city (DEPLOYMENT_REGION): a farmer who never said where they live is
still that region's farmer, so their ticket goes to its officers instead of waiting unseen in the admin's inbox.
A ticket still open HANDOFF_ESCALATE_AFTER_HOURS after it was opened (or last moved) goes to the region above,
county → city → province, so the officers there see it; the inbox shows where it came from and since when.
The gateway's push scheduler runs escalate_overdue every round: each move is one conditional UPDATE on the
ticket's region and time, so with several gateways a ticket still moves once per due time.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows
from knowledge.handoff.tickets import officer_for
from knowledge.models import HandoffTicket, Region

logger = logging.getLogger(__name__)


def escalate_overdue(session: Session, now: dt.datetime, after_hours: int) -> int:
    """Move every open ticket unanswered for `after_hours` since it was opened or last moved one region up;
    returns how many moved. The caller commits."""
    if after_hours <= 0:
        return 0
    due = now - dt.timedelta(hours=after_hours)
    overdue = session.execute(
        select(HandoffTicket.id, HandoffTicket.region_id, HandoffTicket.escalated_at, Region.parent_id)
        .join(Region, Region.id == HandoffTicket.region_id)
        .where(HandoffTicket.status == "open",
               or_(and_(HandoffTicket.escalated_at.is_(None), HandoffTicket.created_at <= due),
                   HandoffTicket.escalated_at <= due))
        .order_by(HandoffTicket.id)
    ).all()
    moved = 0
    for ticket_id, region_id, escalated_at, parent_id in overdue:
        parent = session.get(Region, parent_id) if parent_id is not None else None
        if parent is None or parent.parent_id is None:
            continue  # already at the province (全国 has no officers): it stays where it is
        officer = officer_for(session, parent)
        unchanged = and_(HandoffTicket.id == ticket_id, HandoffTicket.region_id == region_id,
                         HandoffTicket.status == "open",
                         HandoffTicket.escalated_at.is_(None) if escalated_at is None
                         else HandoffTicket.escalated_at == escalated_at)
        changed = count_changed_rows(session, update(HandoffTicket).where(unchanged).values(
            region_id=parent.id, escalated_from_id=region_id, escalated_at=now,
            assignee_id=officer.id if officer is not None else None).execution_options(synchronize_session=False))
        if changed:
            moved += 1
            logger.info("Handoff ticket %s unanswered for %dh: moved up to region %s", ticket_id, after_hours,
                        parent.id)
    return moved
