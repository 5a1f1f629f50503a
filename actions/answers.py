"""What every factual answer shares: an id per answer and the 👍/👎 buttons that rate it."""
from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def new_answer_id(kind: str) -> str:
    """A short id for one answer ("price-1a2b3c4d"); it travels in the feedback buttons' payload."""
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def ask_for_feedback(dispatcher: CollectingDispatcher, kind: str) -> str:
    """Send the 👍/👎 buttons under a factual answer; returns the answer id they carry."""
    answer_id = new_answer_id(kind)
    dispatcher.utter_message(response="utter_feedback", answer_id=answer_id)
    return answer_id


def latest_entity_values(tracker: Tracker, entity: str) -> List[str]:
    """Every value of `entity` in the farmer's latest message, in the order written."""
    entities: List[Dict[str, Any]] = tracker.latest_message.get("entities") or []
    return [str(item.get("value")) for item in entities if item.get("entity") == entity and item.get("value")]


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    """The first value of `entity` in the latest message, if any."""
    values = latest_entity_values(tracker, entity)
    return values[0] if values else None


def latest_text(tracker: Tracker) -> str:
    """The farmer's latest message as typed (empty for button payloads)."""
    text = (tracker.latest_message.get("text") or "").strip()
    return "" if text.startswith("/") else text


def latest_question(tracker: Tracker) -> str:
    """The question the farmer's latest message asks: for a long story, the question it ends in (the NLU's
    `question_focus`, nlu/focus.py); otherwise the message itself."""
    return str(tracker.latest_message.get("question_focus") or "") or latest_text(tracker)
