"""Farmers' 👍/👎 on the bot's answers, one rating per answer (a second tap changes it)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Feedback


def record_feedback(
    session: Session, conversation_id: str, answer_id: str, rating: int, comment: Optional[str] = None
) -> Feedback:
    """Store the rating of one answer, replacing an earlier rating of it (a new comment replaces the old one,
    an empty one keeps it). The caller commits."""
    found = session.scalars(
        select(Feedback).where(Feedback.conversation_id == conversation_id, Feedback.message_id == answer_id)
    ).first()
    if found is None:
        found = Feedback(conversation_id=conversation_id, message_id=answer_id, rating=rating, comment=comment)
        session.add(found)
    else:
        found.rating = rating
        found.comment = comment or found.comment
    return found
