"""The log output of every process of ours: one format, with secrets and farmers' phone and 身份证 numbers
taken out of every line.

Redacting in the formatter, not at each call site, because the libraries log too: python-telegram-bot
writes its Bot API URL (which holds the bot token) at DEBUG and puts the token into its InvalidToken
message, httpx logs every request URL at INFO, PTB at DEBUG logs whole updates with the farmers' texts,
and the console and the action server log what officers and farmers typed.
"""
from __future__ import annotations

import logging
import sys
from typing import Iterable, List, Optional, TextIO

from knowledge.masking import mask_personal_data, mask_sender_ids
from settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"


SECRET_SUFFIXES = ("_secret", "_secret_key", "_token")


def secrets_of(settings: Settings) -> List[str]:
    """Every configured secret (each setting named *_secret, *_secret_key or *_token); a bot token also by
    its secret half, as URLs may split it."""
    found: List[str] = []
    for name in Settings.__fields__:
        value = getattr(settings, name) if name.endswith(SECRET_SUFFIXES) else ""
        if value:
            found.append(value)
            if ":" in value:
                found.append(value.split(":", 1)[1])
    # Longest first, so a whole token is replaced before its half.
    return sorted({value for value in found if len(value) >= 6}, key=len, reverse=True)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output never contains the given secrets, a mobile number or a 身份证 number."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        """The formatted line (message, traceback and all) with secrets and personal numbers masked."""
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return mask_sender_ids(mask_personal_data(text))


class RedactingHandler(logging.StreamHandler):
    """The one handler `configure_logging` installs, told apart from the handlers of tests and libraries."""


def _writes_to_console(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return stream is not None and stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


def configure_logging(settings: Settings, stream: Optional[TextIO] = None) -> logging.Handler:
    """Send every log record to `stream` (stderr by default) through the redacting formatter; returns the handler.

    Replaces the root logger's earlier handlers that print to the terminal (ours from an earlier call,
    Rasa SDK's coloured one in the action server), so no line is printed twice or unmasked.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, RedactingHandler) or _writes_to_console(handler):
            root.removeHandler(handler)
    handler = RedactingHandler(stream)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets_of(settings)))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # One INFO line per Bot API request (each getUpdates poll) is noise, besides holding the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
