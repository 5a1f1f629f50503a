"""Short keys for Telegram buttons whose meaning does not fit callback_data's 64 bytes, kept in the knowledge DB."""
from __future__ import annotations

import hashlib
import secrets

from knowledge.callback_store import store_meaning
from knowledge.db import Session

# A payload key is derived from the payload, so the same long button always gets the same key.
PAYLOAD_KIND = "payload"
# 16 hex characters, with a short prefix, stay far below 64 bytes.
KEY_CHARS = 16


def remember_payload(session: Session, payload: str) -> str:
    """The short key for a long button payload, stored once; the caller commits."""
    key = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:KEY_CHARS]
    store_meaning(session, key, PAYLOAD_KIND, payload)
    return key


def remember_once(session: Session, kind: str, payload: str) -> str:
    """A fresh random key for a one-time action (such as a pending /setprice); the caller commits."""
    key = secrets.token_hex(KEY_CHARS // 2)
    store_meaning(session, key, kind, payload)
    return key
