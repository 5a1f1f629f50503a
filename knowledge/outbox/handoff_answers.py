"""Officers' answers to handed-off questions, added to the push queue for the farmer who asked."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from knowledge.models import HandoffTicket, Push
from knowledge.outbox.queue import enqueue_push


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
