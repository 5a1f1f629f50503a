"""Handing a question to a person (HandoffTicket for the farmer's region, with the voice messages and photos
the farmer just sent), and the two-fallbacks rule."""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.articles import answer_by_search
from actions.farmers import farmer_for
from actions.knowledge_access import knowledge_session
from knowledge.handoff.attachments import HANDOFF_WINDOW, describe_attachments, recent_unhanded
from knowledge.handoff.tickets import hand_over
from knowledge.models import FarmerAttachment

logger = logging.getLogger(__name__)

# Intents whose message is a request for a person or a reaction, not the question itself.
_NOT_A_QUESTION = {"request_human", "affirm", "deny", "feedback", "greet", "thank", "goodbye"}
REPLY_TIME = "信息员一般在工作日8:00–18:00处理，通常1个工作日内"


NO_QUESTION = "（农户请求人工帮助，未留下具体问题）"


def is_noise(parse_data: Dict[str, Any]) -> bool:
    """The message is noise (keyboard mash, interjections: nlu.components.NoiseDetector said so)."""
    return parse_data.get("relabelled_by") == "NoiseDetector"


def typed_question(tracker: Tracker, not_before: Optional[float] = None) -> Optional[str]:
    """The farmer's last real typed question (sent at `not_before` or later, a Unix time), if any."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        text = (event.get("text") or "").strip()
        parse_data = event.get("parse_data") or {}
        intent = (parse_data.get("intent") or {}).get("name")
        # Noise ("呃呃呃") is never the question: the one before it is.
        if text and not text.startswith("/") and intent not in _NOT_A_QUESTION and not is_noise(parse_data):
            recent = not_before is None or (event.get("timestamp") or 0) >= not_before
            return text if recent else None
    return None


def question_to_hand_over(tracker: Tracker, attachments: Sequence[FarmerAttachment] = ()) -> str:
    """The question for the officer: the farmer's last typed question, or else what they sent.

    With media on the ticket, only a question typed within HANDOFF_WINDOW counts: an old question
    beside a new photo would tell the officer the wrong story.
    """
    not_before = time.time() - HANDOFF_WINDOW.total_seconds() if attachments else None
    typed = typed_question(tracker, not_before)
    if typed:
        return typed
    if attachments:
        return describe_attachments(attachments)
    latest = (tracker.latest_message.get("text") or "").strip()
    return latest if latest and not latest.startswith("/") else NO_QUESTION


def told_to_the_farmer(question: str) -> str:
    """The ticket's question as the farmer reads it back: our notes about them ("（农户发来一条语音）") say 您."""
    if question.startswith("（农户") and question.endswith("）"):
        return "（您" + question[len("（农户"):]
    return question


class ActionRequestHuman(Action):
    """Hands the question to the officers of the farmer's region and tells them who answers and roughly when.

    A farmer with a ticket still waiting for an answer gets the question added to it, not a second ticket.
    """

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        with knowledge_session() as session:
            # The farmer's home region, never a place they asked about, decides which officers answer.
            farmer = farmer_for(session, tracker)
            # Voice messages and photos the gateway noted reach Rasa only as "转给信息员"; the ticket takes them along.
            media = recent_unhanded(session, farmer.id)
            ticket = hand_over(session, farmer, question_to_hand_over(tracker, media), tracker.sender_id,
                               NO_QUESTION, media)
            if ticket.officer is not None and ticket.region is not None:
                who = f"{ticket.region.name}的信息员{ticket.officer.display_name or ticket.officer.username}"
            elif ticket.region is not None:
                who = f"{ticket.region.name}的信息员"
            else:
                who = "乡镇信息员"
        logger.info("Handoff ticket %s %s with %d attachment(s)", ticket.id, "added to" if ticket.added else "opened",
                    ticket.attached)
        dispatcher.utter_message(
            response="utter_handoff_added" if ticket.added else "utter_handoff_created", who=who, ticket=ticket.id,
            question=told_to_the_farmer(ticket.question), when=REPLY_TIME + "，",
        )
        return []


def fallbacks_in_a_row(tracker: Tracker) -> int:
    """How many of the farmer's latest messages in a row the NLU could not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandleFallback(Action):
    """Asks the farmer to rephrase; the second miss in a row offers a person instead. A question that plainly
    names one of our topics is answered from its article although the NLU did not place it."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if not is_noise(tracker.latest_message):
            answered = answer_by_search(dispatcher, tracker)
            if answered is not None:
                return answered
        if fallbacks_in_a_row(tracker) >= 2:
            dispatcher.utter_message(response="utter_offer_human")
        else:
            dispatcher.utter_message(response="utter_default")
        return []


class ActionOutOfScope(Action):
    """"这个问题我答不了" with a person offered, unless the question plainly names one of our topics after all
    ("土地沿包是怎么回事": a homophone the NLU took for chatter), which its article answers."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        answered = answer_by_search(dispatcher, tracker)
        if answered is not None:
            return answered
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
