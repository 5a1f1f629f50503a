"""What every channel does with a farmer's text: limits, the call to Rasa, and a polite apology on failure."""
from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from typing import Any, Deque, Dict, List, Optional

from bot.farmer_directory import FarmerDirectory
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.replies import Reply
from knowledge.masking import mask_personal_data, mask_sender_id

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
MESSAGES_PER_MINUTE = 20

APOLOGY = "抱歉，系统暂时有点忙，请过一会儿再发一次。您的消息我们已经记下了。"
TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几次、说得简短一些。"
TOO_FAST = "您发得太快了，请稍等一分钟再问。"
EMPTY = "请直接打字提问，比如：玉米多少钱一斤？"


class RateLimiter:
    """A sliding one-minute window per sender, held in memory (one gateway process per chat source)."""

    def __init__(self, per_minute: int = MESSAGES_PER_MINUTE) -> None:
        self._per_minute = per_minute
        self._seen: Dict[str, Deque[float]] = defaultdict(deque)
        self._last_sweep = 0.0

    def _sweep(self, now: float) -> None:
        # Once a minute, forget senders quiet for a minute: the gateway runs for months and meets
        # every farmer of the county, each of whom would otherwise keep a window here for good.
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for sender in [sender for sender, window in self._seen.items() if not window or now - window[-1] > 60]:
            del self._seen[sender]

    def tracked_senders(self) -> int:
        """How many senders have a window in memory."""
        return len(self._seen)

    def allow(self, sender: str, now: Optional[float] = None) -> bool:
        """Record a message and say whether it is within the limit."""
        now = time.monotonic() if now is None else now
        self._sweep(now)
        window = self._seen[sender]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self._per_minute:
            return False
        window.append(now)
        return True


class Conversation:
    """Channel-independent handling of one incoming message."""

    def __init__(
        self, rasa: RasaClient, limiter: Optional[RateLimiter] = None, farmers: Optional[FarmerDirectory] = None,
        address_limiter: Optional[RateLimiter] = None,
    ) -> None:
        self._rasa = rasa
        self._limiter = limiter or RateLimiter()
        self._farmers = farmers
        # Per client address, for channels whose sender id costs nothing to renew (the web chat's cookie).
        self._address_limiter = address_limiter

    async def _with_farmer(self, sender: str, metadata: Dict[str, Any], private: bool) -> Dict[str, Any]:
        """The metadata plus the farmer's stored region; the farmer is remembered on the way."""
        if self._farmers is None:
            return metadata
        try:
            region = await self._farmers.remember(
                sender, str(metadata.get("channel") or "rest"), metadata.get("chat_id"),
                metadata.get("display_name"), private=private,
            )
        except Exception:  # the knowledge DB being down must not stop the farmer's question reaching Rasa
            logger.exception("Could not read or record the farmer for sender %s", mask_sender_id(sender))
            return metadata
        return {**metadata, "region": region} if region else metadata

    async def handle_text(
        self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None, private: bool = True,
        client_address: Optional[str] = None,
    ) -> List[Reply]:
        """The replies to one message; never raises for Rasa failures.

        `private` is False for a message from a group: the farmer's push chat is then left as it was.
        `client_address` (web chat) is limited too, since a new cookie is a new sender. Only a message that
        passes every limit reaches the knowledge DB (farmer row) and Rasa (tracker).
        """
        text = (text or "").strip()
        if not text:
            return [Reply(EMPTY)]
        if len(text) > MAX_MESSAGE_CHARS:
            return [Reply(TOO_LONG)]
        if not self._limiter.allow(sender):
            logger.info("Rate limit reached for sender %s", mask_sender_id(sender))
            return [Reply(TOO_FAST)]
        limiter = self._address_limiter
        if client_address is not None and limiter is not None and not limiter.allow(client_address):
            logger.info("Rate limit reached for client address %s", client_address)
            return [Reply(TOO_FAST)]
        metadata = await self._with_farmer(sender, dict(metadata or {}), private)
        try:
            replies = await self._rasa.send(sender, text, metadata)
        except RasaUnavailable as error:
            self._log_unanswered(sender, text, metadata, str(error))
            return [Reply(APOLOGY)]
        if not replies:
            # Rasa's REST channel answers 200 with no messages when a custom action fails (action server
            # down or erroring), so the farmer gets the same apology as when Rasa itself is down.
            self._log_unanswered(sender, text, metadata, "Rasa returned no reply (is the action server down?)")
            return [Reply(APOLOGY)]
        return replies

    @staticmethod
    def _log_unanswered(sender: str, text: str, metadata: Dict[str, Any], reason: str) -> None:
        # The apology tells the farmer the message was noted: the log keeps it (phone and 身份证 numbers
        # masked) so staff can follow up, since Rasa's tracker may never have seen it.
        logger.error("Message from %s (channel %s) not answered: %s. Message: %r", mask_sender_id(sender),
                     metadata.get("channel", "?"), reason, mask_personal_data(text))
