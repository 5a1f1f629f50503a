"""The gateway's log output: one format, with secrets and farmers' phone and 身份证 numbers taken out of every line.

Redacting in the formatter, not at each call site, because the libraries log too: python-telegram-bot
writes its Bot API URL (which holds the bot token) at DEBUG and puts the token into its InvalidToken
message, httpx logs every request URL at INFO, and PTB at DEBUG logs whole updates with the farmers' texts.
"""
from __future__ import annotations

import logging
from typing import Iterable, List, Optional, TextIO

from knowledge.masking import mask_personal_data
from settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"


def secrets_of(settings: Settings) -> List[str]:
    """Every configured secret the gateway knows; a bot token also by its secret half, as URLs may split it."""
    found: List[str] = []
    for value in (settings.telegram_bot_token, settings.telegram_webhook_secret, settings.rasa_api_token):
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
        return mask_personal_data(text)


def configure_logging(settings: Settings, stream: Optional[TextIO] = None) -> logging.Handler:
    """Send every log record to `stream` (stderr by default) through the redacting formatter; returns the handler."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets_of(settings)))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # One INFO line per Bot API request (each getUpdates poll) is noise, besides holding the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
