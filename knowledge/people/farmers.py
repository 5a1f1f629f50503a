"""Farmers: the person behind a stable sender id ("tg-123", "web-…"), the chat to push to, and their region.

The one implementation behind the gateway (first message, /start, a shared location) and the
Rasa actions (subscriptions, handoff), so both agree on who a farmer is.
"""
from __future__ import annotations

import logging
import math
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.catalog.lookup import find_region
from knowledge.models import Farmer, Region

logger = logging.getLogger(__name__)

REGION_SEATS_FILE = Path(__file__).resolve().parents[1] / "data" / "region_seats.yml"
# A shared location within this distance of a city's seat places the farmer in that city.
CITY_RADIUS_KM = 60.0
_EARTH_RADIUS_KM = 6371.0


def find_farmer(session: Session, sender_id: str) -> Optional[Farmer]:
    """The farmer with this sender id, if they have talked to the bot before."""
    return session.scalars(select(Farmer).where(Farmer.sender_id == sender_id)).first()


SENDER_CHANNELS = {"tg-": "telegram", "web-": "webchat"}


def channel_of_sender(sender_id: str) -> str:
    """The channel a sender id belongs to, from the prefix the gateway gives it ("rest" for any other)."""
    return next((channel for prefix, channel in SENDER_CHANNELS.items() if sender_id.startswith(prefix)), "rest")


def farmers_by_sender(session: Session, sender_ids: Iterable[str]) -> Dict[str, Farmer]:
    """Farmer rows by sender id, for the senders that have one."""
    ids = list(sender_ids)
    if not ids:
        return {}
    return {farmer.sender_id: farmer for farmer in session.scalars(select(Farmer).where(Farmer.sender_id.in_(ids)))}


def remember_farmer(
    session: Session,
    sender_id: str,
    channel: str,
    chat_id: Optional[str] = None,
    display_name: Optional[str] = None,
    private_chat: bool = True,
) -> Farmer:
    """Find or create the farmer; keep the chat to push to and the name current. The caller commits.

    Pushes (officers' answers included) are personal, so only the farmer's private chat with the bot is
    stored: `private_chat=False` (a message from a group) never stores or changes it. A farmer first seen
    in a group has no push chat, and their pushes wait until they write to the bot privately.
    """
    farmer = find_farmer(session, sender_id)
    chat = str(chat_id) if chat_id is not None else None
    name = (display_name or "").strip()[:64] or None
    if farmer is None:
        farmer = Farmer(sender_id=sender_id, channel=(channel or "rest")[:16], chat_id=chat if private_chat else None,
                        display_name=name, updated_by=sender_id[:64])
        session.add(farmer)
        session.flush()
        return farmer
    if chat is not None and private_chat and farmer.chat_id != chat:
        farmer.chat_id = chat
    if name is not None and farmer.display_name != name:
        farmer.display_name = name
    session.flush()
    return farmer


def move_farmer(session: Session, old_sender_id: str, new_sender_id: str) -> bool:
    """Give the farmer known as `old_sender_id` a new sender id (region, subscriptions and pushes go along).

    True when a farmer was moved; nothing happens when there is none or the new id is taken. The caller commits.
    """
    farmer = find_farmer(session, old_sender_id)
    if farmer is None or find_farmer(session, new_sender_id) is not None:
        return False
    farmer.sender_id = new_sender_id
    farmer.updated_by = new_sender_id[:64]
    session.flush()
    return True


def set_farmer_region(session: Session, farmer: Farmer, region: Region) -> None:
    """Store the farmer's region (their village, township, county …); audited, the caller commits."""
    before = farmer.region.name if farmer.region is not None else None
    if before == region.name and farmer.region_id == region.id:
        return
    farmer.region = region
    farmer.updated_by = farmer.sender_id[:64]
    session.flush()
    # The audit entry names the region only: the farmer's name and chat are personal data.
    record_change(session, farmer.sender_id[:64], "set_region", "farmer", farmer.id,
                  {"region": before}, {"region": region.name})


def set_farmer_region_by_name(session: Session, farmer: Farmer, region_name: str) -> Optional[Region]:
    """Store the region the farmer named, when the knowledge base knows it; returns it (None: unknown)."""
    region = find_region(session, region_name)
    if region is not None:
        set_farmer_region(session, farmer, region)
    return region


@lru_cache(maxsize=1)
def _region_seats() -> Dict[str, Tuple[float, float]]:
    data = yaml.safe_load(REGION_SEATS_FILE.read_text(encoding="utf-8")) or {}
    return {str(name): (float(point[0]), float(point[1])) for name, point in data.items()}


def distance_km(a: Tuple[float, float], b: Tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def region_near(session: Session, latitude: float, longitude: float) -> Optional[Region]:
    """The region a shared location most likely lies in: a city within CITY_RADIUS_KM, else the nearest province.

    None when the point is not in or near China (farther than 800 km from every provincial seat).
    """
    here = (latitude, longitude)
    seats = _region_seats()
    regions = session.scalars(select(Region).where(Region.name.in_(list(seats)))).all()
    if not regions:
        return None
    by_distance = sorted(regions, key=lambda region: distance_km(here, seats[region.name]))
    for region in by_distance:
        if region.level in ("city", "county", "township", "village"):
            if distance_km(here, seats[region.name]) <= CITY_RADIUS_KM:
                return region
            break
    provinces = [region for region in by_distance if region.level == "province"]
    if not provinces or distance_km(here, seats[provinces[0].name]) > 800:
        return None
    return provinces[0]
