"""Handing a farmer's question to a person: the ticket for the nearest information officer, with the media
the farmer sent.

One open ticket per farmer: asking for a person again adds the question to the ticket still waiting
for an answer rather than opening another, so a flood of requests cannot fill the officers' inbox.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import find_region, region_chain
from knowledge.handoff.attachments import attach_to_ticket
from knowledge.models import Account, Farmer, FarmerAttachment, HandoffTicket, Region, Role
from settings import load_settings

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
FURTHER_QUESTION = "补充："


@dataclass(frozen=True)
class HandedOver:
    """The ticket a question went to: its id, whether it already existed, where it waits and what it took along."""

    id: int
    added: bool
    officer: Optional[Account]
    region: Optional[Region]
    attached: int
    # The question the ticket asks (its first one when the farmer asked nothing new).
    question: str


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


def deployment_region(session: Session, words: str) -> Optional[Region]:
    """The region DEPLOYMENT_REGION names (None when unset or unknown: logged, the ticket then has no region)."""
    if not words:
        return None
    region = find_region(session, words)
    if region is None:
        logger.warning("DEPLOYMENT_REGION %r names no region of the knowledge base", words)
    return region


def open_ticket_of(session: Session, farmer_id: int) -> Optional[HandoffTicket]:
    """The farmer's ticket no officer has answered yet, if any."""
    return session.scalars(
        select(HandoffTicket)
        .where(HandoffTicket.farmer_id == farmer_id, HandoffTicket.status == "open")
        .order_by(HandoffTicket.id.desc())
    ).first()


def add_question(ticket: HandoffTicket, question: str, placeholder: str) -> None:
    """Add a further question to an open ticket, once; `placeholder` (no question given) is replaced, never added."""
    question = question.strip()
    if not question or question == placeholder:
        return
    if ticket.question == placeholder:
        ticket.question = question[:MAX_QUESTION_CHARS]
        return
    lines = ticket.question.split("\n")
    if question in lines or FURTHER_QUESTION + question in lines:
        return
    ticket.question = f"{ticket.question}\n{FURTHER_QUESTION}{question}"[:MAX_QUESTION_CHARS]


def hand_over(
    session: Session, farmer: Farmer, question: str, conversation_id: str, placeholder: str,
    attachments: Sequence[FarmerAttachment] = (),
) -> HandedOver:
    """Add the question to the farmer's open ticket, or open one for their region's nearest officer (the
    deployment's region when the farmer's home is unknown); the caller commits.

    `placeholder` is the text a ticket carries when the farmer asked nothing in particular.
    """
    ticket = open_ticket_of(session, farmer.id)
    added = ticket is not None
    if ticket is None:
        # A farmer who never said where they live is the installation's own (DEPLOYMENT_REGION).
        region = farmer.region or deployment_region(session, load_settings().deployment_region)
        ticket = HandoffTicket(farmer=farmer, question=question[:MAX_QUESTION_CHARS], conversation_id=conversation_id,
                               region=region, assignee=officer_for(session, region))
        session.add(ticket)
        session.flush()
    else:
        add_question(ticket, question, placeholder)
        if question == placeholder:
            question = ticket.question.split("\n")[0]
    attached = attach_to_ticket(session, ticket, attachments)
    return HandedOver(ticket.id, added, ticket.assignee, ticket.region, attached, question)
