"""Checking a sign-in (argon2, counting failures, locking an account after too many) and changing one's password."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.models import Account, utcnow
from knowledge.people.accounts import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password

logger = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
# Verified when the username does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password")


@dataclass
class LoginResult:
    """The account when the sign-in succeeded, else the Chinese reason to show."""

    account: Optional[Account] = None
    error: str = ""


def attempt_login(session: Session, username: str, password: str, now: Optional[dt.datetime] = None) -> LoginResult:
    """Check a username and password; counts failures and locks the account for 15 minutes after 5. Caller commits."""
    now = now or utcnow()
    wrong = LoginResult(error="用户名或密码不对。")
    account = session.scalars(select(Account).where(Account.username == (username or "").strip())).first()
    if account is None:
        verify_password(_DUMMY_HASH, password or "")
        logger.info("Failed console login for an unknown username")
        return wrong
    if account.locked_until is not None and account.locked_until > now:
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        logger.info("Console login refused for locked account %s", account.username)
        return LoginResult(error=f"密码错误次数太多，账号已锁定，请 {minutes} 分钟后再试，或请管理员解锁。")
    if not verify_password(account.password_hash, password or ""):
        account.failed_logins = (account.failed_logins or 0) + 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCKOUT
            account.failed_logins = 0
            logger.warning("Console account %s locked after %d failed logins", account.username, MAX_FAILED_LOGINS)
            return LoginResult(error=f"密码连续错了 {MAX_FAILED_LOGINS} 次，账号已锁定 15 分钟。")
        logger.info("Failed console login for %s (%d in a row)", account.username, account.failed_logins)
        return wrong
    if not account.active:
        logger.info("Console login refused for deactivated account %s", account.username)
        return LoginResult(error="这个账号已停用，请联系管理员。")
    account.failed_logins = 0
    account.locked_until = None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    logger.info("Console login: %s", account.username)
    return LoginResult(account=account)


def change_password(session: Session, account: Account, current: str, new: str, repeated: str) -> str:
    """Set a new password after checking the current one; returns a Chinese reason, or "" when changed.

    Audited without any secret: the entry says only that the password changed. The caller commits.
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
    record_change(session, account.username, "password", "account", account.id, None, {"username": account.username})
    logger.info("Console account %s changed its password", account.username)
    return ""
