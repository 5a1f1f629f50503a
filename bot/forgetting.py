"""A farmer's “删除我的记录” in the gateway (Telegram's /forget, the web chat's link): the knowledge DB at once,
then their Rasa conversation (knowledge.privacy.forgetting)."""
from __future__ import annotations

import asyncio
import logging

from knowledge.db import KnowledgeStore, Session
from knowledge.people.farmers import find_farmer
from knowledge.privacy.forgetting import erase_pending_conversations, forget_farmer
from knowledge.privacy.tracker_writer import TrackerWriter

logger = logging.getLogger(__name__)

# The farmer's own request; admins' requests are audited under their username (console).
ACTOR = "farmer"


class Forgetting:
    """Forgets farmers who ask, through the knowledge DB and Rasa's tracker store."""

    def __init__(self, store: KnowledgeStore, tracker: TrackerWriter) -> None:
        self._store = store
        self._tracker = tracker

    async def forget(self, sender_id: str, via: str) -> bool:
        """Forget the farmer behind `sender_id`; `via` is the channel they asked on (audited). False: none was kept.

        Without a farmer row nothing was kept (the gateway writes it with the first message Rasa gets), so a
        stream of fresh web chat cookies asking to be forgotten writes nothing.
        """
        def work(session: Session) -> bool:
            if find_farmer(session, sender_id) is None:
                return False
            forget_farmer(session, sender_id, ACTOR, via)
            return True

        if not await self._store.run(work):
            return False
        try:
            await asyncio.to_thread(erase_pending_conversations, self._store, self._tracker)
        except Exception:  # the request is recorded: the retention scheduler finishes the conversation's part
            logger.exception("A forgotten farmer's conversation could not be anonymised yet; queued for the scheduler")
        return True
