""""我是藁城的": the farmer says where they live, the one way a chat sets their home region.

A place named in a question ("郑州小麦多少钱", "帮我买张去北京的火车票") is conversation context only (the
`place` slot) and never changes the farmer's record; this action is for the farmer's own statement.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import latest_entity_values, latest_text
from actions.knowledge_access import knowledge_session
from knowledge.people.farmers import channel_of_sender, set_home_region

logger = logging.getLogger(__name__)


def place_words(tracker: Tracker) -> str:
    """The place the farmer names: the last (narrowest) region entity ("河南周口" → 周口), else the words typed."""
    places = latest_entity_values(tracker, "region")
    return places[-1] if places else latest_text(tracker)


class ActionSetHomeRegion(Action):
    """Stores the farmer's home region when the words name one place; asks which when several share the name."""

    def name(self) -> str:
        return "action_set_home_region"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        words = place_words(tracker)
        with knowledge_session() as session:
            home = set_home_region(session, tracker.sender_id, channel_of_sender(tracker.sender_id), words)
        if home.stored is not None:
            logger.info("A farmer set their home region (region %s)", home.region_id)
            dispatcher.utter_message(response="utter_home_region_set", place=home.name or home.stored)
        elif home.choices:
            buttons = [{"title": label, "payload": "/inform_home" + json.dumps({"region": label}, ensure_ascii=False)}
                       for _, label in home.choices]
            dispatcher.utter_message(response="utter_which_home", words=words, buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_home_region_unknown", words=words)
        return []
