"""Calls to the Bot API that survive Telegram's flood control, 5xx answers and network errors.

Every reply goes through `send_with_retry`: 429 waits the retry_after Telegram asks for, 5xx and
network errors back off and try again, and a reply that still cannot be sent is logged, never
dropped in silence. Errors that retrying cannot fix (the user blocked the bot, a bad request)
are logged once and not retried.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Awaitable, Callable, Optional, TypeVar, Union

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

logger = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
# Longer flood-control waits are not sat out inside one handler; the reply is logged as lost.
MAX_RETRY_AFTER_SECONDS = 60.0


def retry_after_seconds(error: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (PTB gives an int or a timedelta depending on its settings)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def is_permanent(error: TelegramError) -> bool:
    """True for errors that another attempt cannot fix."""
    return isinstance(error, (Forbidden, BadRequest, InvalidToken))


async def send_with_retry(
    what: str,
    call: Callable[[], Awaitable[T]],
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Optional[T]:
    """Run one Bot API call with retries; returns its result, or None (logged) when it could not be done.

    `what` names the call in logs without personal data (e.g. "reply to chat …42").
    """
    backoff = FIRST_BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if wait > MAX_RETRY_AFTER_SECONDS or attempt == attempts:
                logger.error("Telegram flood control: %s lost (asked to wait %.0fs, attempt %d)", what, wait, attempt)
                return None
            logger.warning("Telegram flood control: waiting %.0fs before retrying %s", wait, what)
            await sleep(wait)
        except TelegramError as error:
            # BadRequest and friends are NetworkErrors in PTB's hierarchy, but no retry will fix them.
            if is_permanent(error) or not isinstance(error, NetworkError):
                logger.error("Telegram refused %s: %s", what, error)
                return None
            if attempt == attempts:
                logger.error("Telegram unreachable: %s lost after %d attempts: %s", what, attempt, error)
                return None
            logger.warning("Telegram error on %s (attempt %d), retrying in %.0fs: %s", what, attempt, backoff, error)
            await sleep(backoff)
            backoff *= 2
    return None


def masked_chat(chat_id: Union[int, str]) -> str:
    """A chat named fit for logs: only its last three digits, enough to correlate lines."""
    return f"chat …{str(chat_id)[-3:]}"


async def say(bot: Bot, chat_id: Union[int, str], text: str, markup: Any = None) -> None:
    """Send one message with retries (logged, not raised, when it cannot be sent)."""
    await send_with_retry(f"message to {masked_chat(chat_id)}",
                          lambda: bot.send_message(chat_id, text, reply_markup=markup))
