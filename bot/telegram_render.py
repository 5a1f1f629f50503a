"""Replies drawn for Telegram: texts split to fit 4096 characters, buttons as inline keyboards within 64 bytes."""
from __future__ import annotations

from typing import Awaitable, Callable, List, Optional, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import Button

MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_BYTES = 64
# callback_data prefixes: a stored long payload, an officer's confirm or cancel. Rasa payloads
# start with "/" and are sent as they are.
STORED_PAYLOAD_PREFIX = "k:"
SETPRICE_CONFIRM_PREFIX = "sp:ok:"
SETPRICE_CANCEL_PREFIX = "sp:no:"
# /forget's buttons, followed by the Telegram user id of the farmer who asked (only they may press them).
FORGET_CONFIRM_PREFIX = "fg:ok:"
FORGET_CANCEL_PREFIX = "fg:no:"
# A button that stores the farmer's home region (one of several places of a name, or a shared location): + region id.
HOME_REGION_PREFIX = "home:"
BUTTONS_PER_ROW = 2


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Cut a long text into messages of at most `limit` characters, at line ends where possible.

    A single line longer than the limit is cut inside the line (a farmer gets all of it, in order).
    """
    if len(text) <= limit:
        return [text]
    parts: List[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def fits_callback(data: str) -> bool:
    """True when `data` fits Telegram's callback_data limit (64 bytes of UTF-8)."""
    return len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES


async def inline_keyboard(
    buttons: Sequence[Button], store_payload: Callable[[str], Awaitable[str]]
) -> Optional[InlineKeyboardMarkup]:
    """An inline keyboard for the buttons; a payload over 64 bytes travels as a short key from `store_payload`."""
    if not buttons:
        return None
    rows: List[List[InlineKeyboardButton]] = []
    for index, button in enumerate(buttons):
        data = button.payload or button.title
        if not fits_callback(data) or data.startswith((STORED_PAYLOAD_PREFIX, "sp:")):
            data = STORED_PAYLOAD_PREFIX + await store_payload(data)
        if index % BUTTONS_PER_ROW == 0:
            rows.append([])
        rows[-1].append(InlineKeyboardButton(button.title[:64] or "…", callback_data=data))
    return InlineKeyboardMarkup(rows)
