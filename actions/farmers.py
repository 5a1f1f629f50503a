"""The Farmer row behind a conversation, through knowledge.people.farmers (the gateway uses the same functions)."""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker

from knowledge.db import Session
from knowledge.models import Farmer
from knowledge.people.farmers import remember_farmer, set_farmer_region_by_name


def farmer_for(session: Session, tracker: Tracker, region_name: Optional[str] = None) -> Farmer:
    """The farmer talking in this conversation, with channel, chat id and name from the message metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    farmer = remember_farmer(
        session,
        tracker.sender_id,
        channel=str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest"),
        chat_id=metadata.get("chat_id"),
        display_name=metadata.get("display_name"),
        # The gateway keeps the chat id current; an action only fills it in for a new farmer.
        update_chat=False,
    )
    if region_name:
        set_farmer_region_by_name(session, farmer, region_name)
    return farmer
