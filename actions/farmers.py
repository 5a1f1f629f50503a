"""The Farmer row behind a conversation: found by the stable sender id, created on first need."""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.lookup import find_region
from knowledge.models import Farmer


def farmer_for(session: Session, tracker: Tracker, region_name: Optional[str] = None) -> Farmer:
    """The farmer talking in this conversation, with channel, chat id and name from the message metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    farmer = session.scalars(select(Farmer).where(Farmer.sender_id == tracker.sender_id)).first()
    if farmer is None:
        farmer = Farmer(
            sender_id=tracker.sender_id,
            channel=str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest")[:16],
            chat_id=str(metadata["chat_id"]) if metadata.get("chat_id") is not None else None,
            display_name=metadata.get("display_name"),
        )
        session.add(farmer)
    if region_name:
        region = find_region(session, region_name)
        if region is not None:
            farmer.region = region
    session.flush()
    return farmer
