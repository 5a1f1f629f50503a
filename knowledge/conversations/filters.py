"""The conversation list's filters that the knowledge DB answers, not the tracker store: reviewed, flagged,
tagged, a 👎 from the farmer, a handoff ticket, the farmer's region."""
from __future__ import annotations

from typing import Optional, Set

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import descendant_ids
from knowledge.catalog.regions import region_by_id
from knowledge.conversations.tracker import ConversationFilter
from knowledge.models import ConversationReview, Farmer, Feedback, HandoffTicket


def _reviewed_ids(session: Session) -> Set[str]:
    return set(session.scalars(select(ConversationReview.conversation_id).where(ConversationReview.reviewed.is_(True))))


def _flagged_ids(session: Session) -> Set[str]:
    return set(session.scalars(select(ConversationReview.conversation_id).where(ConversationReview.flagged.is_(True))))


def _tagged_ids(session: Session, tag: str) -> Set[str]:
    # Tags are stored comma-separated and normalised; padding with commas matches whole tags only.
    wanted = f"%,{tag.strip()},%"
    padded = "," + ConversationReview.tags + ","
    return set(session.scalars(select(ConversationReview.conversation_id).where(padded.like(wanted))))


def _negative_feedback_ids(session: Session) -> Set[str]:
    return set(session.scalars(select(Feedback.conversation_id).where(Feedback.rating < 0).distinct()))


def _ticket_conversation_ids(session: Session) -> Set[str]:
    return set(session.scalars(select(HandoffTicket.conversation_id).distinct()))


def _senders_in_region(session: Session, region_id: int) -> Optional[Set[str]]:
    region = region_by_id(session, region_id)
    if region is None:
        return None  # an unknown region narrows nothing, as if it had not been chosen
    ids = descendant_ids(session, region)
    return set(session.scalars(select(Farmer.sender_id).where(Farmer.region_id.in_(ids))))


def _narrow(current: Optional[Set[str]], allowed: Set[str]) -> Set[str]:
    return set(allowed) if current is None else current & allowed


def add_knowledge_filters(
    session: Session,
    wanted: ConversationFilter,
    negative_feedback: bool = False,
    reviewed: Optional[bool] = None,
    tag: str = "",
    flagged: bool = False,
    region_id: Optional[int] = None,
) -> ConversationFilter:
    """Narrow `wanted` to conversations with a 👎, reviewed or not, with `tag`, flagged, of farmers in `region_id`.

    A handed-off filter also takes the conversations that have a ticket. Returns `wanted`, changed in place.
    """
    if wanted.handed_off:
        wanted.also_handed_off = _ticket_conversation_ids(session)
    if negative_feedback:
        wanted.only_senders = _narrow(wanted.only_senders, _negative_feedback_ids(session))
    if reviewed is True:
        wanted.only_senders = _narrow(wanted.only_senders, _reviewed_ids(session))
    elif reviewed is False:
        wanted.except_senders |= _reviewed_ids(session)
    if tag.strip():
        wanted.only_senders = _narrow(wanted.only_senders, _tagged_ids(session, tag))
    if flagged:
        wanted.only_senders = _narrow(wanted.only_senders, _flagged_ids(session))
    if region_id is not None:
        senders = _senders_in_region(session, region_id)
        if senders is not None:
            wanted.only_senders = _narrow(wanted.only_senders, senders)
    return wanted
