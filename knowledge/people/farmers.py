"""Farmers: the person behind a stable sender id ("tg-123", "web-…"), the chat to push to, and their region.

The one implementation behind the gateway (first message, /start, a shared location) and the
Rasa actions (subscriptions, handoff), so both agree on who a farmer is.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.catalog.lookup import find_region
from knowledge.catalog.snapshot import catalog, distance_km
from knowledge.models import Farmer, Region

logger = logging.getLogger(__name__)


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


# A shared location farther than this from every county seat is not in China (or not on land we know).
MAX_COUNTY_DISTANCE_KM = 150.0


def region_near(session: Session, latitude: float, longitude: float) -> Optional[Region]:
    """The county a shared location lies in: the one whose seat is nearest (the data set's coordinates, offline).

    None when the point is farther than MAX_COUNTY_DISTANCE_KM from every county seat (not in China). Near a
    border the nearest seat can be the neighbour's, so the farmer confirms before it is stored.
    """
    names = catalog(session)
    county = names.nearest_county(latitude, longitude)
    if county is None or county.latitude is None or county.longitude is None:
        return None
    if distance_km((latitude, longitude), (county.latitude, county.longitude)) > MAX_COUNTY_DISTANCE_KM:
        return None
    return session.get(Region, county.id)


def region_label(session: Session, region: Region) -> str:
    """The region's names from its province down ("河北省石家庄市藁城区"), as farmers see it when asked to confirm."""
    names = catalog(session)
    entry = names.region_with_id(region.id)
    return names.label(entry) if entry is not None else region.name


@dataclass(frozen=True)
class HomeRegion:
    """What set_home_region did: the region stored (its label), or the places to choose from, or neither."""

    stored: Optional[str]
    region_id: Optional[int] = None
    # The region's own name (藁城区), for "已记下您在…"; `stored` is its label (河北省石家庄市藁城区).
    name: Optional[str] = None
    # Labels of the places a shared name may mean ("北京市朝阳区", …): ask the farmer which, store nothing yet.
    choices: Tuple[Tuple[int, str], ...] = ()

    @property
    def unknown(self) -> bool:
        """True when the words named no place we know."""
        return self.stored is None and not self.choices


def set_home_region(
    session: Session, sender_id: str, channel: str, words: str, chat_id: Optional[str] = None
) -> HomeRegion:
    """The farmer says where they live ("我是藁城的", /start 藁城, the web chat's region, a confirmed location):
    store it when the words name one place; list the places when several share the name; the caller commits.

    The only way a farmer's home region changes besides a shared location they confirm (set_home_region_id):
    a place named in a question is never the farmer's home.
    """
    names = catalog(session)
    found = names.regions_named(words)
    if len(found) > 1:
        return HomeRegion(None, choices=tuple((region.id, names.label(region)) for region in found))
    if not found:
        return HomeRegion(None)
    return set_home_region_id(session, sender_id, channel, found[0].id, chat_id)


def set_home_region_id(
    session: Session, sender_id: str, channel: str, region_id: int, chat_id: Optional[str] = None
) -> HomeRegion:
    """Store the region the farmer chose (a button: one of several places, or their confirmed location)."""
    region = session.get(Region, region_id)
    if region is None:
        return HomeRegion(None)
    set_farmer_region(session, remember_farmer(session, sender_id, channel, chat_id), region)
    return HomeRegion(region_label(session, region), region.id, region.name)
