"""Checking a sign-in (argon2, with back-off per username and per client address) and changing one's password.

Every failed sign-in reads the same (FAILED_SIGN_IN) and costs one argon2 check, whether the username
is unknown, the password wrong, the account locked or deactivated, so neither the text nor the time
tells which usernames exist. Failures are counted in login_throttle by the database itself
(UPDATE … failures + 1), and counted before the password is checked, so parallel guesses cannot
outrun the limit. A username is locked for a short, fixed time after `max_failures`; attempts while
it is locked neither count nor extend the lock. A client address that keeps failing is refused,
without any hashing, for a time that doubles with each further failure: that is what stops one
attacker from keeping an account locked.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.db import SessionFactory, count_changed_rows, insert_or_ignore, session_scope
from knowledge.models import Account, LoginThrottle, utcnow
from knowledge.people.accounts import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from knowledge.people.sessions import close_all_sessions
from settings import Settings

logger = logging.getLogger(__name__)

FAILED_SIGN_IN = "用户名或密码不对，或者尝试次数太多、暂时不能登录。请核对后过几分钟再试；仍不行请联系管理员。"
# Checked when the outcome is already decided (unknown username, locked), so every failure costs one argon2 check.
_DUMMY_HASH = hash_password("not-a-real-password")
# Rows without a running block and untouched this long are forgotten when someone signs in.
FORGET_AFTER = dt.timedelta(days=1)
_KEY_PART = 80


@dataclass(frozen=True)
class LoginLimits:
    """How many failures a username and an address get, and how long they are refused after."""

    max_failures: int = 5
    lock: dt.timedelta = dt.timedelta(minutes=5)
    address_failures: int = 20
    address_backoff: dt.timedelta = dt.timedelta(minutes=1)
    address_backoff_max: dt.timedelta = dt.timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginLimits":
        """The limits the CONSOLE_LOGIN_* settings name."""
        return cls(
            max_failures=settings.console_login_max_failures,
            lock=dt.timedelta(seconds=settings.console_login_lock_seconds),
            address_failures=settings.console_login_address_failures,
            address_backoff=dt.timedelta(seconds=settings.console_login_address_backoff_seconds),
            address_backoff_max=dt.timedelta(seconds=settings.console_login_address_backoff_max_seconds),
        )

    def address_block(self, failures: int) -> dt.timedelta:
        """How long an address is refused after its `failures`-th failure in a row (doubling, capped)."""
        doublings = min(failures - self.address_failures, 32)
        return min(self.address_backoff * (2 ** doublings), self.address_backoff_max)


@dataclass(frozen=True)
class LoginResult:
    """The account's id when the sign-in succeeded, else the Chinese text to show."""

    account_id: Optional[int] = None
    error: str = ""


def _user_key(username: str) -> str:
    return "user:" + username[:_KEY_PART]


def _address_key(address: str) -> str:
    return "ip:" + (address or "unknown")[:_KEY_PART]


def _not_blocked(now: dt.datetime):
    return or_(LoginThrottle.blocked_until.is_(None), LoginThrottle.blocked_until <= now)


def _count_failure(session: Session, key: str, now: dt.datetime) -> Optional[int]:
    """Add one to the key's failures in the database unless it is blocked; its new count, or None when blocked."""
    insert_or_ignore(session, LoginThrottle.__table__, {"key": key, "failures": 0, "updated_at": now}, ["key"])
    counted = count_changed_rows(session, (
        update(LoginThrottle).where(LoginThrottle.key == key, _not_blocked(now))
        .values(failures=LoginThrottle.failures + 1, updated_at=now)
        .execution_options(synchronize_session=False)))
    if counted == 0:
        return None
    return session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key))


def _block(session: Session, key: str, until: dt.datetime, now: dt.datetime, **values) -> None:
    # Only a key not already blocked: a lock runs its fixed time, whatever arrives meanwhile.
    session.execute(update(LoginThrottle).where(LoginThrottle.key == key, _not_blocked(now))
                    .values(blocked_until=until, updated_at=now, **values)
                    .execution_options(synchronize_session=False))


def _claim_attempt(session: Session, username: str, address: str, limits: LoginLimits,
                   now: dt.datetime) -> Tuple[Optional[int], Optional[int], Optional[Account]]:
    """Count the attempt for the address and the username; (address failures, username failures, account).

    Address failures None: the address is refused. Username failures None: the username is locked.
    """
    address_failures = _count_failure(session, _address_key(address), now)
    if address_failures is None:
        return None, None, None
    user_failures = _count_failure(session, _user_key(username), now)
    account = session.scalars(select(Account).where(Account.username == username)).first()
    if user_failures is not None and user_failures > limits.max_failures:
        user_failures = None  # parallel attempts beyond the limit are refused like a lock
    return address_failures, user_failures, account


def attempt_login(factory: SessionFactory, username: str, password: str, address: str,
                  limits: LoginLimits = LoginLimits(), now: Optional[dt.datetime] = None) -> LoginResult:
    """Check a sign-in from client `address`; commits its own short transactions around the argon2 check."""
    now = now or utcnow()
    username = (username or "").strip()
    with session_scope(factory) as session:
        address_failures, user_failures, account = _claim_attempt(session, username, address, limits, now)
        if address_failures is None:
            logger.info("Console sign-in refused: the client address is backing off")
            return LoginResult(error=FAILED_SIGN_IN)
        may_try = account is not None and user_failures is not None
        stored = account.password_hash if account is not None and may_try else _DUMMY_HASH
        account_id = account.id if account is not None else None
        active = account is not None and account.active
    # argon2 outside any transaction: no database lock is held while it runs.
    matched = verify_password(stored, password or "")
    with session_scope(factory) as session:
        if may_try and matched and active:
            session.execute(delete(LoginThrottle).where(
                LoginThrottle.key.in_([_user_key(username), _address_key(address)])))
            session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - FORGET_AFTER,
                                                        _not_blocked(now)))
            signed_in = session.get(Account, account_id)
            if signed_in is not None and needs_rehash(stored):
                signed_in.password_hash = hash_password(password)
            logger.info("Console login: %s", username)
            return LoginResult(account_id=account_id)
        if user_failures is not None and user_failures >= limits.max_failures:
            # The username starts afresh after its lock; the address keeps counting, so its back-off grows.
            _block(session, _user_key(username), now + limits.lock, now, failures=0)
            logger.warning("Console username locked for %s after %d failed sign-ins", limits.lock, user_failures)
        if address_failures >= limits.address_failures:
            _block(session, _address_key(address), now + limits.address_block(address_failures), now)
            logger.warning("Console sign-ins from one address refused for %s after %d failures",
                           limits.address_block(address_failures), address_failures)
        logger.info("Failed console sign-in")
        return LoginResult(error=FAILED_SIGN_IN)


def username_locks(session: Session, now: Optional[dt.datetime] = None) -> Dict[str, dt.datetime]:
    """Usernames locked after failed sign-ins, with when their lock ends."""
    now = now or utcnow()
    rows = session.execute(select(LoginThrottle.key, LoginThrottle.blocked_until).where(
        LoginThrottle.key.startswith("user:"), LoginThrottle.blocked_until > now))
    return {key[len("user:"):]: until for key, until in rows}


def unlock_account(session: Session, account: Account, actor: str) -> None:
    """Lift a lock after failed sign-ins and reset the count; audited. The caller commits."""
    key = _user_key(account.username)
    until = session.scalar(select(LoginThrottle.blocked_until).where(LoginThrottle.key == key))
    record_change(session, actor, "unlock", "account", account.id,
                  {"locked_until": until.isoformat() if until else None}, None)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
    account.updated_by = actor


def change_password(session: Session, account: Account, current: str, new: str, repeated: str) -> str:
    """Set a new password after checking the current one; returns a Chinese reason, or "" when changed.

    Every session of the account is revoked. Audited without any secret: the entry says only that the
    password changed. The caller commits.
    """
    if not verify_password(account.password_hash, current or ""):
        return "当前密码不对。"
    if new != repeated:
        return "两次输入的新密码不一样。"
    if len(new or "") < MIN_PASSWORD_LENGTH:
        return f"新密码至少要 {MIN_PASSWORD_LENGTH} 位。"
    if new == current:
        return "新密码不能和当前密码一样。"
    account.password_hash = hash_password(new)
    account.updated_by = account.username
    # Every session of the old password ends, wherever its cookie was copied to; the caller opens a new one.
    close_all_sessions(session, account.id)
    record_change(session, account.username, "password", "account", account.id, None, {"username": account.username})
    logger.info("Console account %s changed its password", account.username)
    return ""
