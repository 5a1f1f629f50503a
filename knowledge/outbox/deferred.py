"""Deferred messages: farmers' messages the gateway could not answer in time, kept until Rasa can answer them.

A row is written before the farmer is told "we will answer shortly", so a restart loses none. Sending
starts with a claim (a conditional UPDATE only one process wins) of the oldest unfinished message of a
farmer, never a later one while an earlier one is unfinished: answers come in the order asked. The
answer goes into the push outbox under the key "deferred:<id>" in the transaction that settles the
row, so however many processes answer the same row (a lease that expired mid-answer), the farmer gets
one push.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows
from knowledge.models import DeferredMessage, Farmer, Push, utcnow
from knowledge.outbox.queue import enqueue_push
from knowledge.people.farmers import remember_farmer

# A process that dies while answering leaves a claim that expires after this long; then another answers.
DEFERRED_LEASE = dt.timedelta(minutes=3)
UNFINISHED = ("waiting", "answering")
PUSH_KIND = "deferred_answer"


@dataclass(frozen=True)
class DeferredJob:
    """A claimed deferred message, ready to send to Rasa."""

    id: int
    sender_id: str
    text: str
    metadata: Dict[str, Any]
    attempts: int


def push_key(deferred_id: int) -> str:
    """The outbox key of a deferred message's answer: one push per message, whoever answers it."""
    return f"deferred:{deferred_id}"


def keep_message(
    session: Session, sender_id: str, text: str, metadata: Dict[str, Any], answering_by: Optional[str] = None,
    retry_at: Optional[dt.datetime] = None, now: Optional[dt.datetime] = None,
) -> int:
    """Keep a message to answer later; returns its id.

    `answering_by` names the process that has already sent it to Rasa and is still waiting for the answer
    (the row is then claimed by it); otherwise it waits for the drain, from `retry_at` on.
    """
    now = now or utcnow()
    farmer = remember_farmer(session, sender_id, str(metadata.get("channel") or "rest"))
    row = DeferredMessage(
        farmer_id=farmer.id, sender_id=sender_id, text=text,
        message_metadata=json.dumps(metadata, ensure_ascii=False, default=str),
        status="answering" if answering_by else "waiting", attempts=0, next_attempt_at=retry_at or now,
        claimed_by=answering_by[:64] if answering_by else None, claimed_at=now if answering_by else None,
        received_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def has_unfinished(session: Session, sender_id: str) -> bool:
    """Whether the farmer has a kept message not yet answered: a newer one must then wait behind it."""
    return session.scalar(
        select(DeferredMessage.id)
        .where(DeferredMessage.sender_id == sender_id, DeferredMessage.status.in_(UNFINISHED)).limit(1)
    ) is not None


def _claimable(now: dt.datetime):
    return (
        ((DeferredMessage.status == "waiting") & (DeferredMessage.next_attempt_at <= now))
        | ((DeferredMessage.status == "answering") & (DeferredMessage.claimed_at < now - DEFERRED_LEASE))
    )


def claim_deferred(session: Session, worker: str, limit: int, now: Optional[dt.datetime] = None) -> List[DeferredJob]:
    """Claim up to `limit` due messages, each the oldest unfinished one of its farmer, oldest first.

    Commit before sending them, so other processes skip them.
    """
    now = now or utcnow()
    if limit <= 0:
        return []
    earliest = (
        select(func.min(DeferredMessage.id)).where(DeferredMessage.status.in_(UNFINISHED))
        .group_by(DeferredMessage.sender_id)
    )
    candidates = session.scalars(
        select(DeferredMessage.id).where(DeferredMessage.id.in_(earliest), _claimable(now))
        .order_by(DeferredMessage.id).limit(limit)
    ).all()
    jobs = []
    for deferred_id in candidates:
        won = count_changed_rows(session,
            update(DeferredMessage).where(DeferredMessage.id == deferred_id, _claimable(now))
            .values(status="answering", claimed_by=worker[:64], claimed_at=now,
                    attempts=DeferredMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if won:
            row = session.get(DeferredMessage, deferred_id)
            assert row is not None
            session.refresh(row)
            jobs.append(DeferredJob(row.id, row.sender_id, row.text, json.loads(row.message_metadata or "{}"),
                                    row.attempts))
    return jobs


def _settle(session: Session, deferred_id: int, status: str, push_text: str, error: Optional[str],
            now: dt.datetime) -> bool:
    row = session.get(DeferredMessage, deferred_id)
    if row is None or row.status not in UNFINISHED:
        return False  # already settled by another process whose lease this one outlived, or the farmer was forgotten
    enqueue_push(session, push_key(row.id), PUSH_KIND, row.farmer_id, push_text, now=now)
    row.status, row.answered_at, row.last_error = status, now, (error or None) and error[:256]
    # The conversation is in Rasa's tracker store; the copy here has done its job.
    row.text, row.message_metadata, row.claimed_by, row.claimed_at = "", "{}", None, None
    return True


def answer_deferred(session: Session, deferred_id: int, push_text: str, now: Optional[dt.datetime] = None) -> bool:
    """Put the answer in the outbox and mark the message answered; False when it was settled already."""
    return _settle(session, deferred_id, "answered", push_text, None, now or utcnow())


def fail_deferred(session: Session, deferred_id: int, push_text: str, error: str,
                  now: Optional[dt.datetime] = None) -> bool:
    """Rasa answered with an error: tell the farmer (`push_text`) and give the message up; False when settled."""
    return _settle(session, deferred_id, "failed", push_text, error, now or utcnow())


def retry_deferred(session: Session, deferred_id: int, error: str, after_seconds: float,
                   now: Optional[dt.datetime] = None) -> None:
    """Rasa could not be reached (the message never got there): try again after `after_seconds`."""
    now = now or utcnow()
    session.execute(
        update(DeferredMessage).where(DeferredMessage.id == deferred_id, DeferredMessage.status.in_(UNFINISHED))
        .values(status="waiting", claimed_by=None, claimed_at=None, last_error=error[:256],
                next_attempt_at=now + dt.timedelta(seconds=after_seconds))
        .execution_options(synchronize_session=False)
    )


def release_deferred(session: Session, deferred_ids: List[int]) -> None:
    """Hand claimed messages back unsent (no capacity after all); the attempt is not counted."""
    if deferred_ids:
        session.execute(
            update(DeferredMessage).where(DeferredMessage.id.in_(deferred_ids), DeferredMessage.status == "answering")
            .values(status="waiting", claimed_by=None, claimed_at=None, attempts=DeferredMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )


def deferred_counts(session: Session) -> Dict[str, int]:
    """How many kept messages are in each status (for metrics and checks)."""
    rows = session.execute(select(DeferredMessage.status, func.count()).group_by(DeferredMessage.status)).all()
    return {status: count for status, count in rows}


def oldest_unfinished_seconds(session: Session, now: Optional[dt.datetime] = None) -> float:
    """How long the oldest kept message not yet answered has waited (0 when none waits): what an alert needs, since
    during a long peak some message is always kept while each is answered in a minute or two."""
    oldest = session.scalar(select(func.min(DeferredMessage.received_at))
                            .where(DeferredMessage.status.in_(UNFINISHED)))
    if oldest is None:
        return 0.0
    return max(0.0, ((now or utcnow()) - oldest).total_seconds())


def deferred_answers(session: Session, sender_id: Optional[str] = None) -> List[Push]:
    """The outbox rows holding deferred answers (of one farmer, or everyone's), oldest first."""
    query = select(Push).where(Push.kind == PUSH_KIND)
    if sender_id is not None:
        query = query.join(Farmer, Farmer.id == Push.farmer_id).where(Farmer.sender_id == sender_id)
    return list(session.scalars(query.order_by(Push.id)))
