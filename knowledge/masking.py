"""Masking personal data (mainland mobile numbers and 身份证 numbers) before staff see it or a log keeps it.

Farmers type their phone or ID number into the chat when they want a call back or ask about
their pension; reviewers need the question, not the number.
"""
from __future__ import annotations

import re

# An 18-character resident ID (17 digits and a digit or X) or the old 15-digit form; checked
# before phones so the 11 digits inside an ID are not taken for a phone number.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{6})(\d{3}[\dXx]|\d{1})(?![0-9A-Za-z])")
# A mainland mobile number, optionally with +86/86 and spaces or dashes in the usual places.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[ -]?)?1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def _mask_id(match: re.Match) -> str:
    head, middle, tail = match.groups()
    return head[:4] + "*" * (len(head) - 4 + len(middle) + len(tail) - 4) + (head + middle + tail)[-4:]


def mask_personal_data(text: str) -> str:
    """The text with 身份证 numbers and mobile numbers masked (1101**********123X, 138****5678)."""
    if not text:
        return text
    text = _ID_NUMBER.sub(_mask_id, text)
    return _MOBILE.sub(lambda match: f"{match.group(1)}****{match.group(3)}", text)


# Farmers' sender ids as the gateway makes them (tg-<Telegram user id>, web-<HMAC of the chat cookie>):
# they reach logs inside paths and messages, and each one names a person.
_SENDER_ID = re.compile(r"(?<![\w-])(tg-\d{5,}|web-[A-Za-z0-9_-]{16,})(?![\w-])")


def mask_sender_id(sender: str) -> str:
    """A sender id fit for logs: enough to correlate lines, not enough to identify the person."""
    return sender[:4] + "…" + sender[-2:] if len(sender) > 8 else "…"


def mask_sender_ids(text: str) -> str:
    """The text with every farmer's sender id in it shortened as mask_sender_id does."""
    return _SENDER_ID.sub(lambda match: mask_sender_id(match.group(1)), text)
