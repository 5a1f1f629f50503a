"""What every channel does with a farmer's text: limits, the call to Rasa, and a polite apology on failure."""
from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from typing import Any, Deque, Dict, List, Optional

from bot.farmer_directory import FarmerDirectory
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.replies import Reply

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
MESSAGES_PER_MINUTE = 20

APOLOGY = "抱歉，系统暂时有点忙，请过一会儿再发一次。您的消息我们已经记下了。"
TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几次、说得简短一些。"
TOO_FAST = "您发得太快了，请稍等一分钟再问。"
EMPTY = "请直接打字提问，比如：玉米多少钱一斤？"


def mask_sender(sender: str) -> str:
    """A sender id fit for logs: enough to correlate lines, not enough to identify the person."""
    return sender[:4] + "…" + sender[-2:] if len(sender) > 8 else "…"


class RateLimiter:
    """A sliding one-minute window per sender, held in memory (one gateway process per chat source)."""

    def __init__(self, per_minute: int = MESSAGES_PER_MINUTE) -> None:
        self._per_minute = per_minute
        self._seen: Dict[str, Deque[float]] = defaultdict(deque)

    def allow(self, sender: str, now: Optional[float] = None) -> bool:
        """Record a message and say whether it is within the limit."""
        now = time.monotonic() if now is None else now
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
        self, rasa: RasaClient, limiter: Optional[RateLimiter] = None, farmers: Optional[FarmerDirectory] = None
    ) -> None:
        self._rasa = rasa
        self._limiter = limiter or RateLimiter()
        self._farmers = farmers

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
            logger.exception("Could not read or record the farmer for sender %s", mask_sender(sender))
            return metadata
        return {**metadata, "region": region} if region else metadata

    async def handle_text(
        self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None, private: bool = True
    ) -> List[Reply]:
        """The replies to one message; never raises for Rasa failures.

        `private` is False for a message from a group: the farmer's push chat is then left as it was.
        """
        text = (text or "").strip()
        if not text:
            return [Reply(EMPTY)]
        if len(text) > MAX_MESSAGE_CHARS:
            return [Reply(TOO_LONG)]
        if not self._limiter.allow(sender):
            logger.info("Rate limit reached for sender %s", mask_sender(sender))
            return [Reply(TOO_FAST)]
        metadata = await self._with_farmer(sender, dict(metadata or {}), private)
        try:
            replies = await self._rasa.send(sender, text, metadata)
        except RasaUnavailable as error:
            # The farmer's text is logged (length only) so staff can follow up; no personal data in logs.
            logger.error(
                "Message from %s (%d chars, channel %s) not answered: %s",
                mask_sender(sender), len(text), (metadata or {}).get("channel", "?"), error,
            )
            return [Reply(APOLOGY)]
        if not replies:
            logger.warning("Rasa returned no reply for sender %s", mask_sender(sender))
            return [Reply("抱歉，这个问题我暂时答不上来。")]
        return replies
