"""A farmer's right to have their records deleted (“删除我的记录”): on Telegram (/forget), in the web chat, or by an
admin for a request made by phone.

Forgetting anonymises rather than deletes where a row also serves the statistics or an officer's workload:
the farmer row keeps its id and channel under a new random sender id ("forgotten-…") with its name, chat,
region, subscriptions and waiting pushes gone; tickets keep their times and status, not the question or the
answer; attachments keep their kind, not Telegram's file id. The Rasa conversation is moved to the new id
and anonymised by `erase_pending_conversations`, in the gateway or the retention command (the console never
writes Rasa's tracker store). The farmer's next message starts afresh. Each request is audited without the
sender id, the phone number or anything else it removes.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from functools import partial
from typing import Dict, List, Optional

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.conversations.tracker import TrackerReader
from knowledge.db import KnowledgeStore, count_changed_rows
from knowledge.models import (
    ConversationErasure,
    ConversationReview,
    DeferredMessage,
    Farmer,
    FarmerAttachment,
    Feedback,
    HandoffTicket,
    MessageCorrection,
    Push,
    Subscription,
)
from knowledge.people.farmers import find_farmer
from knowledge.privacy.audit_entries import rename_actor, rewrite_audited_fields
from knowledge.privacy.events import ERASED
from knowledge.privacy.tracker_writer import TrackerWriter

logger = logging.getLogger(__name__)

FORGOTTEN_PREFIX = "forgotten-"
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-+()（）]")


@dataclass(frozen=True)
class Forgotten:
    """What forgetting found: whether the bot knew the farmer, the conversation's new id, and how much went."""

    found: bool
    new_sender_id: str
    counts: Dict[str, int] = field(default_factory=dict)


def mobile_number(text: str) -> Optional[str]:
    """The mainland mobile number in `text` ("+86 138-1234-5678" → "13812345678"), or None when it is not one."""
    digits = _SEPARATORS.sub("", text or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def senders_mentioning_phone(session: Session, tracker: TrackerReader, phone: str) -> List[str]:
    """The sender ids of farmers who gave this mobile number: in a message, a ticket, a caption or their name."""
    pattern = f"%{phone}%"
    senders = set(tracker.senders_mentioning(phone))
    senders.update(session.scalars(
        select(Farmer.sender_id).join(HandoffTicket, HandoffTicket.farmer_id == Farmer.id)
        .where(HandoffTicket.question.like(pattern))
    ))
    senders.update(session.scalars(
        select(Farmer.sender_id).join(FarmerAttachment, FarmerAttachment.farmer_id == Farmer.id)
        .where(FarmerAttachment.caption.like(pattern))
    ))
    senders.update(session.scalars(select(Farmer.sender_id).where(Farmer.display_name.like(pattern))))
    return sorted(sender for sender in senders if not sender.startswith(FORGOTTEN_PREFIX))


def _forget_farmer_rows(session: Session, farmer: Farmer, new_sender_id: str, actor: str) -> Dict[str, int]:
    tickets = session.scalars(select(HandoffTicket).where(HandoffTicket.farmer_id == farmer.id)).all()
    for ticket in tickets:
        ticket.question = ERASED
        if ticket.answer is not None:
            ticket.answer = ERASED
        if ticket.status in ("open", "answered"):
            ticket.status = "closed"  # nobody is left to answer, and an answer would have nowhere to go
        ticket.updated_by = actor[:64]
    rewrite_audited_fields(session, "handoff_ticket", [ticket.id for ticket in tickets],
                           {"question": ERASED, "answer": ERASED})
    quiet = {"synchronize_session": False}
    pushes = count_changed_rows(session, delete(Push).where(
        Push.farmer_id == farmer.id, Push.status.in_(("pending", "sending"))).execution_options(**quiet))
    session.execute(update(Push).where(Push.farmer_id == farmer.id).values(text=ERASED).execution_options(**quiet))
    # Messages kept to answer later: nobody is left to answer, and their words must go.
    session.execute(delete(DeferredMessage).where(DeferredMessage.farmer_id == farmer.id).execution_options(**quiet))
    subscriptions = count_changed_rows(session, delete(Subscription).where(Subscription.farmer_id == farmer.id)
                                    .execution_options(**quiet))
    attachments = count_changed_rows(session,
        update(FarmerAttachment).where(FarmerAttachment.farmer_id == farmer.id)
        .values(telegram_file_id="", file_name=None, caption=None).execution_options(**quiet)
    )
    farmer.sender_id = new_sender_id
    farmer.chat_id = farmer.display_name = None
    farmer.region = None
    farmer.updated_by = actor[:64]
    return {"tickets": len(tickets), "pushes": pushes, "subscriptions": subscriptions, "attachments": attachments}


def _forget_conversation_rows(session: Session, sender_id: str, new_sender_id: str) -> int:
    """Rows kept by conversation id: moved to the new id, with the words in them gone; returns corrections removed."""
    quiet = {"synchronize_session": False}
    session.execute(update(HandoffTicket).where(HandoffTicket.conversation_id == sender_id)
                    .values(conversation_id=new_sender_id).execution_options(**quiet))
    session.execute(update(Feedback).where(Feedback.conversation_id == sender_id)
                    .values(conversation_id=new_sender_id, comment=None).execution_options(**quiet))
    reviews = session.scalars(
        select(ConversationReview.id).where(ConversationReview.conversation_id == sender_id)).all()
    session.execute(update(ConversationReview).where(ConversationReview.id.in_(reviews))
                    .values(conversation_id=new_sender_id, note=None).execution_options(**quiet))
    rewrite_audited_fields(session, "conversation_review", reviews, {"note": ERASED})
    # A correction is a copy of the farmer's message: it goes with the conversation.
    corrections = session.scalars(
        select(MessageCorrection.id).where(MessageCorrection.conversation_id == sender_id)).all()
    session.execute(delete(MessageCorrection).where(MessageCorrection.id.in_(corrections)).execution_options(**quiet))
    rewrite_audited_fields(session, "message_correction", corrections,
                           {"text": ERASED, "annotated_text": ERASED, "conversation_id": new_sender_id})
    return len(corrections)


def forget_farmer(session: Session, sender_id: str, actor: str, via: str) -> Forgotten:
    """Remove or anonymise everything personal kept about the farmer with this sender id; audited, the caller commits.

    `actor` is who asked ("farmer" for the farmer themselves, an admin's username), `via` where (telegram,
    webchat, console). The Rasa conversation is queued for `erase_pending_conversations`.
    """
    new_sender_id = FORGOTTEN_PREFIX + secrets.token_hex(8)
    farmer = find_farmer(session, sender_id)
    counts: Dict[str, int] = {}
    if farmer is not None:
        counts.update(_forget_farmer_rows(session, farmer, new_sender_id, actor))
    counts["corrections"] = _forget_conversation_rows(session, sender_id, new_sender_id)
    rename_actor(session, sender_id, new_sender_id)
    session.add(ConversationErasure(sender_id=sender_id, new_sender_id=new_sender_id))
    session.flush()
    record_change(session, actor[:64], "forget", "farmer", farmer.id if farmer is not None else None, None,
                  {"via": via, **counts})
    return Forgotten(farmer is not None, new_sender_id, counts)


def _drop_erasure(session: Session, erasure_id: int) -> None:
    session.execute(delete(ConversationErasure).where(ConversationErasure.id == erasure_id))


def erase_pending_conversations(store: KnowledgeStore, tracker: TrackerWriter) -> int:
    """Anonymise the Rasa conversations of forgotten farmers still waiting (blocking); returns how many were done.

    An error (the tracker database down) stops the call; what is not done stays queued for the next one.
    """
    def pending(session: Session) -> List[ConversationErasure]:
        return list(session.scalars(select(ConversationErasure).order_by(ConversationErasure.id).limit(100)))

    done = 0
    while True:
        batch = store.run_blocking(pending)
        if not batch:
            return done
        for erasure in batch:
            events = tracker.move_and_anonymise(erasure.sender_id, erasure.new_sender_id)
            store.run_blocking(partial(_drop_erasure, erasure_id=erasure.id))
            logger.info("A forgotten farmer's conversation is anonymised (%d events)", events)
            done += 1
