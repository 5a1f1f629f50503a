"""Console accounts: creating them and checking passwords (argon2id through argon2-cffi).

A password exists in plain text only in the caller's hands: it is never stored, logged or put in
the audit log; only its argon2 hash reaches the database.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from typing import List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from knowledge.audit import record_change
from knowledge.catalog.lookup import find_region
from knowledge.models import Account, Role, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account cannot be created as asked; the message is plain Chinese."""


def hash_password(password: str) -> str:
    """The argon2id hash of a password, with its own salt and parameters."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults (rehash at next login)."""
    return _hasher.check_needs_rehash(password_hash)


def create_account(
    session: Session,
    username: str,
    password: str,
    role: str,
    region_name: Optional[str] = None,
    display_name: Optional[str] = None,
    actor: str = "system",
) -> Account:
    """Create a console account; raises AccountError with a Chinese reason. The caller commits."""
    username = (username or "").strip()
    if not _USERNAME.fullmatch(username):
        raise AccountError("用户名只能用字母、数字、汉字和 _ . -，长度 2 到 64 个字")
    if session.scalars(select(Account.id).where(Account.username == username)).first() is not None:
        raise AccountError(f"用户名“{username}”已经有人用了")
    role_values = [known.value for known in Role]
    if role not in role_values:
        raise AccountError(f"角色只能是 {'、'.join(role_values)}，不是“{role}”")
    role = Role(role).value  # stored and logged as the plain value, however the caller named it
    region = None
    if region_name:
        region = find_region(session, region_name)
        if region is None:
            raise AccountError(f"不认识的地区“{region_name}”")
    elif role == Role.OFFICER:
        raise AccountError("信息员（officer）必须指定负责的地区")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少要 {MIN_PASSWORD_LENGTH} 位")
    account = Account(
        username=username,
        display_name=display_name or None,
        password_hash=hash_password(password),
        role=role,
        region=region,
        updated_by=actor,
    )
    session.add(account)
    session.flush()
    # The audit entry names the account, never its password or hash.
    record_change(session, actor, "create", "account", account.id, None, {
        "username": username, "role": role, "region": region.name if region else None, "display_name": display_name,
    })
    logger.info("Account %s (%s) created by %s", username, role, actor)
    return account


def account_by_id(session: Session, account_id: int) -> Optional[Account]:
    """The account with this id, if any."""
    return session.get(Account, account_id)


def all_accounts(session: Session) -> List[Account]:
    """Every account with its region, by role and then username."""
    return list(session.scalars(
        select(Account).options(joinedload(Account.region)).order_by(Account.role, Account.username)
    ).all())


def set_account_active(session: Session, account: Account, active: bool, actor: str) -> None:
    """Deactivate or reactivate an account; audited when it changes. The caller commits."""
    if account.active == active:
        return
    record_change(session, actor, "update", "account", account.id, {"active": account.active}, {"active": active})
    account.active = active
    account.updated_by = actor


LINK_CODE_TTL = dt.timedelta(minutes=15)
LINK_CODE_DIGITS = 8


def _link_code_digest(code: str) -> str:
    # The code is short-lived and single-use; a keyed hash is not needed, only that the DB never
    # holds a code someone could type.
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def issue_telegram_link_code(session: Session, account: Account, actor: str) -> str:
    """A fresh one-time code (8 digits, 15 minutes) that links `account` to the Telegram user who sends it.

    Only its hash is stored; issuing a new code replaces the old one. The caller commits.
    """
    code = "".join(secrets.choice("0123456789") for _ in range(LINK_CODE_DIGITS))
    account.telegram_link_code_hash = _link_code_digest(code)
    account.telegram_link_code_expires_at = utcnow() + LINK_CODE_TTL
    account.updated_by = actor
    record_change(session, actor, "link_code", "account", account.id, None, {"username": account.username})
    return code


def redeem_telegram_link_code(session: Session, code: str, telegram_user_id: str) -> Optional[Account]:
    """Link the Telegram user to the account whose unexpired code this is; None when no code matches.

    The code is cleared on use, and any other account linked to this Telegram user is unlinked,
    so one phone belongs to one officer. The caller commits.
    """
    code = (code or "").strip()
    if not code.isdigit() or len(code) != LINK_CODE_DIGITS:
        return None
    account = session.scalars(
        select(Account).where(Account.telegram_link_code_hash == _link_code_digest(code), Account.active.is_(True))
    ).first()
    if account is None or account.telegram_link_code_expires_at is None:
        return None
    if account.telegram_link_code_expires_at < utcnow():
        return None
    for other in session.scalars(select(Account).where(Account.telegram_user_id == str(telegram_user_id))):
        if other.id != account.id:
            other.telegram_user_id = None
    account.telegram_user_id = str(telegram_user_id)
    account.telegram_link_code_hash = None
    account.telegram_link_code_expires_at = None
    account.updated_by = f"telegram:{telegram_user_id}"
    session.flush()
    record_change(session, account.username, "link_telegram", "account", account.id, None,
                  {"username": account.username, "telegram_user_id": str(telegram_user_id)})
    logger.info("Account %s linked to a Telegram user", account.username)
    return account


def account_for_telegram_user(session: Session, telegram_user_id: str) -> Optional[Account]:
    """The active console account linked to this Telegram user, if any."""
    return session.scalars(
        select(Account).where(Account.telegram_user_id == str(telegram_user_id), Account.active.is_(True))
    ).first()
