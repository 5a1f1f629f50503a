"""What an anonymised Rasa event keeps: its type, intent, action and time, for the statistics; never what the farmer
wrote, the values found in it, or who they are.

Rasa's tracker store keeps each event as JSON (rasa.shared.core.events, Rasa 3.6). Anonymising rewrites that JSON
in place, so the conversation still counts in the dashboard (messages per day, intents, fallbacks, handoffs)
and Rasa can still read it, but the words, the entity values, slot values and the farmer's name are gone.
"""
from __future__ import annotations

from typing import Any, Dict, List

# What stands in for an erased text, in the tracker store and in the knowledge DB alike.
ERASED = "（已删除）"
# Of a message's metadata only the channel is kept (the gateway also sends the chat id and the farmer's name).
KEPT_METADATA = ("channel",)
# The event types that can hold what a farmer wrote or who they are; the others (actions, session starts …) cannot.
PERSONAL_EVENT_TYPES = ("user", "bot", "slot", "entities", "reminder")
# Entity keys that repeat what the farmer wrote (Duckling's "text" and "additional_info").
_ENTITY_WORDS = ("text", "additional_info")


def _entities(entities: Any) -> Any:
    if not isinstance(entities, list):
        return entities
    erased: List[Any] = []
    for entity in entities:
        if isinstance(entity, dict):
            entity = {key: value for key, value in entity.items() if key not in _ENTITY_WORDS}
            entity["value"] = ERASED
        erased.append(entity)
    return erased


def _metadata(metadata: Any) -> Any:
    if not isinstance(metadata, dict):
        return metadata
    return {key: value for key, value in metadata.items() if key in KEPT_METADATA}


def _user(event: Dict[str, Any]) -> None:
    if event.get("text") is not None:
        event["text"] = ERASED
    if "metadata" in event:
        event["metadata"] = _metadata(event["metadata"])
    parse = event.get("parse_data")
    if isinstance(parse, dict):
        parse = dict(parse)
        if parse.get("text") is not None:
            parse["text"] = ERASED
        if "entities" in parse:
            parse["entities"] = _entities(parse["entities"])
        if "metadata" in parse:
            parse["metadata"] = _metadata(parse["metadata"])
        event["parse_data"] = parse


def _bot(event: Dict[str, Any]) -> None:
    # Replies quote the farmer ("已把您的问题转给信息员：“…”") and buttons carry their words back.
    if event.get("text") is not None:
        event["text"] = ERASED
    if event.get("data"):
        event["data"] = {}


def anonymised_event(event: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of one Rasa event (its JSON as a dict) without the farmer's words, values or name.

    Anonymising an anonymised event changes nothing, so a run may safely pass over rows done before.
    """
    event = dict(event)
    kind = event.get("event")
    if kind == "user":
        _user(event)
    elif kind == "bot":
        _bot(event)
    elif kind == "slot":
        event["value"] = None
    elif kind in ("entities", "reminder") and "entities" in event:
        event["entities"] = _entities(event["entities"])
    return event
