"""Recording an officer's answer to a handoff ticket and keeping the gateway's outbox in step with it.

The answer is queued as the ticket's push ("handoff:<id>", the key the gateway itself uses) in the
same transaction that marks the ticket answered, so the gateway never sees an answer without its
push. A changed answer rewrites that push while it still waits; once the gateway has taken it, the
farmer already has (or is getting) the earlier answer, so the change is refused rather than lost.
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change, snapshot
from knowledge.models import Account, HandoffTicket, Push, utcnow
from knowledge.outbox.handoff_answers import handoff_answer_text
from knowledge.outbox.queue import enqueue_push, rewrite_pending_push

MAX_ANSWER_LENGTH = 3000  # a Telegram message holds 4096 characters; leave room for the greeting
AUDITED = ("status", "answer", "answered_at", "assignee_id")


class AnswerRefused(Exception):
    """The answer cannot be recorded; `message` is plain Chinese.

    `conflict` is True when the ticket's state forbids it (already delivered or being sent), False
    when the answer itself is wrong (empty or too long).
    """

    def __init__(self, message: str, conflict: bool) -> None:
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def push_key(ticket_id: int) -> str:
    """The outbox key of a ticket's answer (the gateway's enqueue_handoff_answers uses the same)."""
    return f"handoff:{ticket_id}"


def ticket_push(db: Session, ticket_id: int) -> Optional[Push]:
    """The push carrying the ticket's answer, if one was queued."""
    return db.scalars(select(Push).where(Push.handoff_ticket_id == ticket_id).order_by(Push.id)).first()


def push_statuses(db: Session, ticket_ids: Iterable[int]) -> Dict[int, str]:
    """Push status by ticket id, for the tickets that have a push."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    rows = db.execute(select(Push.handoff_ticket_id, Push.status).where(Push.handoff_ticket_id.in_(ids)))
    return {ticket_id: status for ticket_id, status in rows}


def _check_answer(ticket: HandoffTicket, answer: str) -> None:
    if ticket.status not in ("open", "answered"):
        raise AnswerRefused("这个工单的回答已经送达农户，不能再修改。", conflict=True)
    if not answer:
        raise AnswerRefused("请填写回答内容。", conflict=False)
    if len(answer) > MAX_ANSWER_LENGTH:
        raise AnswerRefused(f"回答太长（{len(answer)} 字），最多 {MAX_ANSWER_LENGTH} 字。", conflict=False)


def answer_ticket(db: Session, ticket: HandoffTicket, answer: str, officer: Account) -> None:
    """Set the answer, mark the ticket answered and queue (or rewrite) its push; audited.

    Raises AnswerRefused; the caller then rolls back, so nothing of a refused answer is kept.
    """
    answer = answer.strip()
    _check_answer(ticket, answer)
    before = snapshot(ticket, AUDITED)
    ticket.answer = answer
    ticket.status = "answered"
    ticket.answered_at = utcnow()
    ticket.assignee = officer
    ticket.updated_by = officer.username
    db.flush()
    text = handoff_answer_text(ticket)
    key = push_key(ticket.id)
    queued = enqueue_push(db, key, "handoff_answer", ticket.farmer_id, text, handoff_ticket_id=ticket.id)
    if not queued and not rewrite_pending_push(db, key, text):
        push = ticket_push(db, ticket.id)
        if push is not None and push.status == "failed":
            raise AnswerRefused(
                "之前的回答没能发送给农户（聊天已失效或多次重试失败），请用电话等其他方式联系农户。", conflict=True)
        raise AnswerRefused("之前的回答已经在发送给农户，不能再修改；如需补充，请另行联系农户。", conflict=True)
    record_change(db, officer.username, "answer", "handoff_ticket", ticket.id, before, snapshot(ticket, AUDITED))
