"""Long button meanings stored under short keys, for chat channels whose buttons carry only a few bytes.

The channel decides the keys (bot/button_keys.py: Telegram allows 64 bytes of callback_data); this
module only keeps, reads and removes the rows.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import delete
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows, insert_or_ignore
from knowledge.models import ChatCallback, utcnow

# Buttons older than this are answered with "please ask again" (their rows are removed).
CALLBACK_TTL = dt.timedelta(days=30)


def store_meaning(session: Session, key: str, kind: str, payload: str) -> None:
    """Keep `payload` under `key` unless the key is taken (the same key for the same payload is stored once).

    The caller commits.
    """
    insert_or_ignore(session, ChatCallback.__table__, {"key": key, "kind": kind, "payload": payload,
                                                      "created_at": utcnow()}, ["key"])


def recall(session: Session, key: str, kind: str) -> Optional[str]:
    """The payload stored under this key for this kind, if it exists and is not too old."""
    row = session.get(ChatCallback, key)
    if row is None or row.kind != kind or row.created_at < utcnow() - CALLBACK_TTL:
        return None
    return row.payload


def forget(session: Session, key: str, kind: str) -> bool:
    """Remove a one-time key; True when this call removed it (so only one press wins)."""
    return count_changed_rows(session,
        delete(ChatCallback).where(ChatCallback.key == key, ChatCallback.kind == kind)
        .execution_options(synchronize_session=False)
    ) == 1


def forget_expired(session: Session) -> int:
    """Remove callbacks older than CALLBACK_TTL; returns how many."""
    return count_changed_rows(session,
        delete(ChatCallback).where(ChatCallback.created_at < utcnow() - CALLBACK_TTL)
        .execution_options(synchronize_session=False)
    )
