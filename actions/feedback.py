"""👍/👎 under factual answers, stored per answer through knowledge.people.feedback."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import latest_entity, latest_text
from actions.knowledge_access import knowledge_session
from knowledge.people.feedback import record_feedback

RATINGS = {"up": 1, "down": -1}


def rated_answer_id(tracker: Tracker) -> str:
    """The answer a rating is for: the button's answer id, else the bot's latest answer in this conversation."""
    answer_id = latest_entity(tracker, "answer_id")
    if answer_id:
        return answer_id[:64]
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("timestamp") is not None:
            return f"bot-{int(event['timestamp'] * 1000)}"
    return "unknown"


class ActionSaveFeedback(Action):
    """Stores a 👍/👎 (one per answer: a second tap changes it) and, after 👎, offers a person."""

    def name(self) -> str:
        return "action_save_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        rating = RATINGS.get(latest_entity(tracker, "rating") or "", 0)
        if rating == 0:
            dispatcher.utter_message(response="utter_feedback_thanks")
            return []
        answer_id = rated_answer_id(tracker)
        comment = latest_text(tracker) or None
        with knowledge_session() as session:
            record_feedback(session, tracker.sender_id, answer_id, rating, comment)
        dispatcher.utter_message(response="utter_feedback_thanks" if rating > 0 else "utter_feedback_sorry")
        return []
