"""The Farmer row behind a conversation, through knowledge.people.farmers (the gateway uses the same functions)."""
from __future__ import annotations

from rasa_sdk import Tracker

from knowledge.db import Session
from knowledge.models import Farmer
from knowledge.people.farmers import channel_of_sender, remember_farmer


def farmer_for(session: Session, tracker: Tracker) -> Farmer:
    """The farmer talking in this conversation; created (without a push chat) if the gateway has not yet.

    Never sets the farmer's home region: a place named in a question ("去北京的火车票", "郑州小麦多少钱") is
    not where the farmer lives. Only the farmer saying so does (knowledge.people.farmers.set_home_region).
    """
    metadata = tracker.latest_message.get("metadata") or {}
    farmer = remember_farmer(
        session,
        tracker.sender_id,
        # Never the channel or chat id of the metadata: whoever reached Rasa could name any Telegram chat
        # and have pushes sent there. The gateway records the chat when the farmer writes to it privately.
        channel=channel_of_sender(tracker.sender_id),
        display_name=metadata.get("display_name"),
    )
    return farmer
