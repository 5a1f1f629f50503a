"""Reviewers' state for conversations, kept in the knowledge DB (the tracker store is read-only):
reviewed, tags, flag and note per conversation, and corrected intent and entities per message.
Every change is audited. Also what farmers said of the bot's answers (👍/👎), shown beside them.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change, snapshot
from knowledge.models import ConversationReview, Feedback, MessageCorrection, utcnow

REVIEW_COLUMNS = ("reviewed", "reviewed_by", "flagged", "tags", "note")
CORRECTION_COLUMNS = ("conversation_id", "event_id", "text", "predicted_intent", "intent", "annotated_text")
MAX_TAG_LENGTH = 20
_TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")


class ReviewError(ValueError):
    """A review change cannot be made as asked; the message is plain Chinese."""


def normalise_tags(text: str) -> str:
    """Tags typed as "价格, 方言，错答" → "价格,方言,错答" (trimmed, unique, sorted)."""
    tags = sorted({tag.strip() for tag in _TAG_SEPARATORS.split(text or "") if tag.strip()})
    for tag in tags:
        if len(tag) > MAX_TAG_LENGTH:
            raise ReviewError(f"标签“{tag}”太长，最多 {MAX_TAG_LENGTH} 个字")
    joined = ",".join(tags)
    if len(joined) > 256:
        raise ReviewError("标签太多了，请精简")
    return joined


def review_for(session: Session, conversation_id: str) -> Optional[ConversationReview]:
    """The review row of a conversation, if any."""
    statement = select(ConversationReview).where(ConversationReview.conversation_id == conversation_id)
    return session.scalars(statement).first()


def reviews_for(session: Session, conversation_ids: Iterable[str]) -> Dict[str, ConversationReview]:
    """Review rows by conversation id."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    rows = session.scalars(select(ConversationReview).where(ConversationReview.conversation_id.in_(ids)))
    return {row.conversation_id: row for row in rows}


def update_review(
    session: Session, conversation_id: str, actor: str, reviewed: bool, flagged: bool, tags: str, note: str
) -> ConversationReview:
    """Set a conversation's review state; audited. The caller commits."""
    review = review_for(session, conversation_id)
    before = snapshot(review, REVIEW_COLUMNS) if review is not None else None
    if review is None:
        review = ConversationReview(conversation_id=conversation_id, reviewed=False, flagged=False, tags="")
        session.add(review)
    if reviewed and not review.reviewed:
        review.reviewed_by = actor
        review.reviewed_at = utcnow()
    elif not reviewed:
        review.reviewed_by = None
        review.reviewed_at = None
    review.reviewed = reviewed
    review.flagged = flagged
    review.tags = normalise_tags(tags)
    review.note = (note or "").strip()[:2000] or None
    review.updated_by = actor
    session.flush()
    after = snapshot(review, REVIEW_COLUMNS)
    if after != before:
        record_change(session, actor, "update" if before else "create", "conversation_review", review.id, before, after)
    return review


def corrections_for(session: Session, conversation_id: str) -> Dict[int, MessageCorrection]:
    """Corrections of a conversation by tracker event id."""
    rows = session.scalars(select(MessageCorrection).where(MessageCorrection.conversation_id == conversation_id))
    return {row.event_id: row for row in rows}


def save_correction(
    session: Session, conversation_id: str, event_id: int, text: str, predicted_intent: Optional[str],
    intent: str, annotated_text: str, actor: str,
) -> MessageCorrection:
    """Record (or replace) the correct intent and annotated entities of one farmer message; audited."""
    correction = session.scalars(
        select(MessageCorrection).where(
            MessageCorrection.conversation_id == conversation_id, MessageCorrection.event_id == event_id)
    ).first()
    before = snapshot(correction, CORRECTION_COLUMNS) if correction is not None else None
    if correction is None:
        correction = MessageCorrection(conversation_id=conversation_id, event_id=event_id)
        session.add(correction)
    correction.text = text
    correction.predicted_intent = predicted_intent
    correction.intent = intent
    correction.annotated_text = annotated_text
    correction.updated_by = actor
    session.flush()
    after = snapshot(correction, CORRECTION_COLUMNS)
    if after != before:
        record_change(session, actor, "update" if before else "create", "message_correction", correction.id,
                      before, after)
    return correction


def all_corrections(session: Session) -> List[MessageCorrection]:
    """Every correction, oldest first (the order the export lists them in)."""
    return list(session.scalars(select(MessageCorrection).order_by(MessageCorrection.id)))


def feedback_by_answer(session: Session, conversation_id: str) -> Dict[str, Feedback]:
    """The farmer's 👍/👎 in a conversation, by the id of the answer they rated."""
    rows = session.scalars(select(Feedback).where(Feedback.conversation_id == conversation_id))
    return {row.message_id: row for row in rows}


def negative_feedback(session: Session, conversation_ids: Iterable[str]) -> Dict[str, int]:
    """Number of 👎 per conversation."""
    counts: Dict[str, int] = {}
    ids = list(conversation_ids)
    if ids:
        for conversation_id in session.scalars(
                select(Feedback.conversation_id).where(Feedback.rating < 0, Feedback.conversation_id.in_(ids))):
            counts[conversation_id] = counts.get(conversation_id, 0) + 1
    return counts
