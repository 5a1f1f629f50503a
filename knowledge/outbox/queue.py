"""The push queue: adding pushes, and claiming, sending and settling them so that a restart neither loses
nor repeats one.

Every logical push has a unique key. Noticing a push only inserts its row (INSERT … ON CONFLICT DO
NOTHING), so any number of gateway processes may scan at once. Sending starts with a claim, a
conditional UPDATE that only one process can win; a process that dies while sending leaves a
claim that expires after PUSH_LEASE and is then retried (at least once: the window for a repeat
is the moment between Telegram's answer and our commit).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows, insert_or_ignore, insert_or_ignore_many
from knowledge.models import Farmer, HandoffTicket, Push, utcnow

PUSH_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 6

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


def enqueue_push_rows(session: Session, rows: List[Dict[str, Any]]) -> int:
    """Add many pending pushes (rows of the push table), skipping keys that exist; returns how many were added."""
    added = 0
    for start in range(0, len(rows), 500):
        added += insert_or_ignore_many(session, Push.__table__, rows[start:start + 500], ["push_key"])
    return added


def rewrite_pending_push(session: Session, push_key: str, text: str) -> bool:
    """Replace the text of the push with this key while it still waits; False once a sender has claimed it.

    Conditional, so a sender that claims the push at this moment wins and the rewrite is refused.
    """
    return bool(count_changed_rows(session,
        update(Push).where(Push.push_key == push_key, Push.status == "pending").values(text=text)
        .execution_options(synchronize_session=False)
    ))


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
    (knowledge.handoff.answers), so text read before it could be an answer already replaced.
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
        if count_changed_rows(session,
            update(Push)
            .where(Push.id == row.id, _claimable(now))
            .values(status="sending", claimed_by=worker[:64], claimed_at=now)
            .execution_options(synchronize_session=False)
        ):
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
    # Most polls find nothing (a page polls every 4 s while it waits for a late answer, every 30 s otherwise): one
    # read then, instead of an UPDATE and a SELECT. With 200 farmers over capacity these polls were the largest
    # part of a gateway's CPU (py-spy, load_bench), CPU the Rasa servers on the same cores lacked.
    waiting = session.scalar(
        select(Push.id).where(Push.id.in_(_webchat_farmer_pushes(sender_id)), Push.status.in_(("pending", "sending")))
        .limit(1))
    if waiting is None:
        return []
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



def push_counts(session: Session) -> Dict[Tuple[str, str], int]:
    """How many pushes there are of each (kind, status), for monitoring."""
    rows = session.execute(select(Push.kind, Push.status, func.count()).group_by(Push.kind, Push.status)).all()
    return {(kind, status): count for kind, status, count in rows}
