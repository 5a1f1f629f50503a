"""Who is writing: the gateway's side of knowledge.people.farmers (remember the chat, read and set the region)."""
from __future__ import annotations

import logging
from typing import Optional, Tuple

from knowledge.db import KnowledgeStore
from knowledge.outbox.deferred import has_unfinished
from knowledge.people.farmers import region_near, remember_farmer, set_farmer_region, set_farmer_region_by_name

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

    async def set_region_by_name(self, sender: str, channel: str, chat_id: Optional[str], name: str) -> Optional[str]:
        """Store the region the farmer typed; returns its full name, or None when the place is unknown."""

        def work(session) -> Optional[str]:
            farmer = remember_farmer(session, sender, channel, chat_id)
            region = set_farmer_region_by_name(session, farmer, name)
            return region.name if region is not None else None

        return await self._store.run(work)

    async def set_region_near(
        self, sender: str, channel: str, chat_id: Optional[str], latitude: float, longitude: float
    ) -> Optional[str]:
        """Store the region a shared location lies in; returns its name, or None when no region is near."""

        def work(session) -> Optional[str]:
            region = region_near(session, latitude, longitude)
            if region is None:
                return None
            set_farmer_region(session, remember_farmer(session, sender, channel, chat_id), region)
            return region.name

        return await self._store.run(work)
