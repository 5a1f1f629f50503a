"""Opening a handoff ticket: the farmer's question for the nearest information officer, with the media they sent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import region_chain
from knowledge.handoff.attachments import attach_to_ticket
from knowledge.models import Account, Farmer, FarmerAttachment, HandoffTicket, Region, Role

MAX_QUESTION = 2000


@dataclass(frozen=True)
class OpenedTicket:
    """A ticket just opened: its id, the officer it went to (if any) and how many media it took along."""

    id: int
    officer: Optional[Account]
    attached: int


def officer_for(session: Session, region: Optional[Region]) -> Optional[Account]:
    """The active information officer nearest to the region (village, then township, county …)."""
    if region is None:
        return None
    for scope in region_chain(region):
        officer = session.scalars(
            select(Account)
            .where(Account.role == Role.OFFICER, Account.active.is_(True), Account.region_id == scope.id)
            .order_by(Account.id)
        ).first()
        if officer is not None:
            return officer
    return None


def open_handoff_ticket(
    session: Session, farmer: Farmer, question: str, conversation_id: str,
    attachments: Sequence[FarmerAttachment] = (),
) -> OpenedTicket:
    """Open a ticket for the farmer's region, assigned to its nearest officer, with the media; the caller commits."""
    officer = officer_for(session, farmer.region)
    ticket = HandoffTicket(farmer=farmer, question=question[:MAX_QUESTION], conversation_id=conversation_id,
                           region=farmer.region, assignee=officer)
    session.add(ticket)
    session.flush()
    attached = attach_to_ticket(session, ticket, attachments)
    return OpenedTicket(ticket.id, officer, attached)
