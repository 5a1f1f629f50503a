"""Signed-in console sessions as rows: opened at sign-in, looked up on every request, deleted to revoke.

The browser's cookie carries a random token; the database keeps only its SHA-256, so reading the
table gives nobody a usable session.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from knowledge.models import Account, ConsoleSession, utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, account_id: int, lifetime: dt.timedelta, now: Optional[dt.datetime] = None) -> str:
    """A new session of the account for `lifetime`; returns the cookie's token. Expired rows go. Caller commits."""
    now = now or utcnow()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=_digest(token), account_id=account_id, created_at=now,
                               expires_at=now + lifetime))
    return token


def session_account(session: Session, token: str, now: Optional[dt.datetime] = None) -> Optional[Account]:
    """The active account of an unexpired session with this token, if any."""
    return session.scalars(
        select(Account).join(ConsoleSession, ConsoleSession.account_id == Account.id)
        .where(ConsoleSession.token_hash == _digest(token), ConsoleSession.expires_at > (now or utcnow()),
               Account.active.is_(True))
    ).first()


def close_session(session: Session, token: str) -> None:
    """Revoke one session (signing out). The caller commits."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))


def close_all_sessions(session: Session, account_id: int) -> None:
    """Revoke every session of the account (its password changed). The caller commits."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account_id))
