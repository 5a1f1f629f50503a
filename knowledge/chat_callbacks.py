"""Meanings of messenger buttons that do not fit in Telegram's 64 bytes of callback_data, under short keys."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Optional

from sqlalchemy import delete
from sqlalchemy.orm import Session

from knowledge.db import insert_or_ignore
from knowledge.models import ChatCallback, utcnow

# A payload key is derived from the payload, so the same long button always gets the same key.
PAYLOAD_KIND = "payload"
KEY_CHARS = 16
# Buttons older than this are answered with "please ask again" (their rows are removed).
CALLBACK_TTL = dt.timedelta(days=30)


def _insert_ignoring_duplicates(session: Session, key: str, kind: str, payload: str) -> None:
    insert_or_ignore(session, ChatCallback.__table__, {"key": key, "kind": kind, "payload": payload,
                                                      "created_at": utcnow()}, ["key"])


def remember_payload(session: Session, payload: str) -> str:
    """The short key for a long button payload, stored once; the caller commits."""
    key = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:KEY_CHARS]
    _insert_ignoring_duplicates(session, key, PAYLOAD_KIND, payload)
    return key


def remember_once(session: Session, kind: str, payload: str) -> str:
    """A fresh random key for a one-time action (such as a pending /setprice); the caller commits."""
    key = secrets.token_hex(KEY_CHARS // 2)
    _insert_ignoring_duplicates(session, key, kind, payload)
    return key


def recall(session: Session, key: str, kind: str) -> Optional[str]:
    """The payload stored under this key for this kind, if it exists and is not too old."""
    row = session.get(ChatCallback, key)
    if row is None or row.kind != kind or row.created_at < utcnow() - CALLBACK_TTL:
        return None
    return row.payload


def forget(session: Session, key: str, kind: str) -> bool:
    """Remove a one-time key; True when this call removed it (so only one press wins)."""
    result = session.execute(
        delete(ChatCallback).where(ChatCallback.key == key, ChatCallback.kind == kind)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def forget_expired(session: Session) -> int:
    """Remove callbacks older than CALLBACK_TTL; returns how many."""
    result = session.execute(
        delete(ChatCallback).where(ChatCallback.created_at < utcnow() - CALLBACK_TTL)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount

