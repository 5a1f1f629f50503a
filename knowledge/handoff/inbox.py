"""Handoff tickets as officers see them: the inbox of their regions, one ticket, a conversation's tickets."""
from __future__ import annotations

from typing import Iterable, List, Optional, Set

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from knowledge.models import FarmerAttachment, HandoffTicket
from knowledge.paging import Page, fetch_page


def ticket_by_id(session: Session, ticket_id: int) -> Optional[HandoffTicket]:
    """The ticket with this id, if any."""
    return session.get(HandoffTicket, ticket_id)


def inbox_tickets(
    session: Session,
    statuses: Iterable[str],
    region_ids: Optional[Set[int]],
    newest_first: bool = False,
    number: int = 1,
    size: int = 50,
) -> Page:
    """Page `number` of the tickets in `statuses`, with farmer, region, assignee and attachments loaded, oldest first
    unless `newest_first`.

    `region_ids` None means every ticket; otherwise only tickets of those regions (never a region-less one).
    """
    statement = (select(HandoffTicket).options(joinedload(HandoffTicket.farmer), joinedload(HandoffTicket.region),
                                               joinedload(HandoffTicket.assignee),
                                               joinedload(HandoffTicket.escalated_from),
                                               selectinload(HandoffTicket.attachments))
                 .where(HandoffTicket.status.in_(list(statuses))))
    if region_ids is not None:
        statement = statement.where(HandoffTicket.region_id.in_(region_ids))
    order = HandoffTicket.created_at.desc() if newest_first else HandoffTicket.created_at
    return fetch_page(session, statement, [order, HandoffTicket.id], number, size)


def conversation_tickets(session: Session, conversation_id: str) -> List[HandoffTicket]:
    """The tickets opened from one conversation, oldest first."""
    return list(session.scalars(
        select(HandoffTicket).where(HandoffTicket.conversation_id == conversation_id).order_by(HandoffTicket.id)
    ).all())


def ticket_attachment(session: Session, ticket: HandoffTicket, attachment_id: int) -> Optional[FarmerAttachment]:
    """The attachment with this id if it belongs to the ticket."""
    attachment = session.get(FarmerAttachment, attachment_id)
    return attachment if attachment is not None and attachment.handoff_ticket_id == ticket.id else None
