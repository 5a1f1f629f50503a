"""Who is writing: the gateway's side of knowledge.people.farmers (remember the chat, read and set the region)."""
from __future__ import annotations

import logging
from typing import Optional, Tuple

from knowledge.db import KnowledgeStore
from knowledge.outbox.deferred import has_unfinished
from knowledge.people.farmers import (
    HomeRegion,
    region_label,
    region_near,
    remember_farmer,
    set_home_region,
    set_home_region_id,
)

logger = logging.getLogger(__name__)


class FarmerDirectory:
    """Farmer rows by sender id, written through the knowledge DB."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def remember(
        self, sender: str, channel: str, chat_id: Optional[str], display_name: Optional[str], private: bool = True
    ) -> Optional[str]:
        """Record the farmer (and, from a private chat, where to push to); returns their stored region name."""

        def work(session) -> Optional[str]:
            farmer = remember_farmer(session, sender, channel, chat_id, display_name, private_chat=private)
            return farmer.region.name if farmer.region is not None else None

        return await self._store.run(work)

    async def arrive(
        self, sender: str, channel: str, chat_id: Optional[str], display_name: Optional[str], private: bool = True
    ) -> Tuple[Optional[str], bool]:
        """As `remember`, in the same unit of work: also whether the farmer has kept messages still unanswered."""

        def work(session) -> Tuple[Optional[str], bool]:
            farmer = remember_farmer(session, sender, channel, chat_id, display_name, private_chat=private)
            return (farmer.region.name if farmer.region is not None else None), has_unfinished(session, sender)

        return await self._store.run(work)

    async def set_region_by_name(self, sender: str, channel: str, chat_id: Optional[str], name: str) -> HomeRegion:
        """The farmer says where they live: stored when the name means one place, else the places to choose from."""
        return await self._store.run(lambda session: set_home_region(session, sender, channel, name, chat_id))

    async def set_region_id(self, sender: str, channel: str, chat_id: Optional[str], region_id: int) -> HomeRegion:
        """Store the place the farmer chose with a button (one of several, or their confirmed location)."""
        return await self._store.run(lambda session: set_home_region_id(session, sender, channel, region_id, chat_id))

    async def place_near(self, latitude: float, longitude: float) -> Optional[Tuple[int, str]]:
        """(id, label) of the county a shared location lies in, to ask the farmer; nothing is stored."""

        def work(session) -> Optional[Tuple[int, str]]:
            region = region_near(session, latitude, longitude)
            return (region.id, region_label(session, region)) if region is not None else None

        return await self._store.run(work)
