"""Who a web chat browser is: a random secret in its cookie, and the farmer's sender id derived from it.

The cookie is a bearer credential: whoever holds it reads that farmer's officer answers and alerts and posts as
them. Everything else (Rasa, the knowledge DB, the console, the audit log, logs) sees only the sender id, an
HMAC of the cookie keyed by WEBCHAT_SECRET_KEY, so reading a sender id never gives the cookie.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Optional

logger = logging.getLogger(__name__)

SENDER_PREFIX = "web-"
# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
_COOKIE = re.compile(r"[A-Za-z0-9_-]{43}")
# The old cookie, which was the sender id itself: "web-" + secrets.token_urlsafe(16). Matched exactly, so that
# a derived sender id ("web-" + 32 hex digits) set as a cookie is never taken for one and moved.
_LEGACY_COOKIE = re.compile(r"web-[A-Za-z0-9_-]{22}")


class WebchatIdentity:
    """Issues cookies and turns a cookie into its sender id."""

    def __init__(self, key: str) -> None:
        if not key:
            logger.warning("WEBCHAT_SECRET_KEY is not set: using a random key, so web chat farmers start a new "
                           "conversation whenever the gateway restarts")
            key = secrets.token_urlsafe(32)
        self._key = key.encode("utf-8")

    @staticmethod
    def new_cookie() -> str:
        """A fresh random cookie value for a browser seen for the first time."""
        return secrets.token_urlsafe(32)

    def sender_for(self, cookie: str) -> Optional[str]:
        """The sender id of a well-formed cookie ("web-" + 32 hex digits of its HMAC), None for anything else."""
        if not _COOKIE.fullmatch(cookie or ""):
            return None
        return SENDER_PREFIX + hmac.new(self._key, cookie.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def is_legacy(cookie: str) -> bool:
        """A cookie of the old format, which was itself the sender id ("web-" + 22 random characters)."""
        return _LEGACY_COOKIE.fullmatch(cookie or "") is not None
