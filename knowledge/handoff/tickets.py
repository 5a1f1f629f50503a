"""A farmer's handoff tickets: finding the one still waiting for an officer, and adding a question to it.

One open ticket per farmer: asking for a person again adds to it rather than opening another, so a
flood of requests cannot fill the officers' inbox.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import HandoffTicket

MAX_QUESTION_CHARS = 2000
FURTHER_QUESTION = "补充："


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
