"""Console accounts: creating them and checking passwords (argon2id through argon2-cffi).

A password exists in plain text only in the caller's hands: it is never stored, logged or put in
the audit log; only its argon2 hash reaches the database.
"""
from __future__ import annotations

import logging
import re
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.lookup import find_region
from knowledge.models import Account

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
    if role not in Account.ROLES:
        raise AccountError(f"角色只能是 {'、'.join(Account.ROLES)}，不是“{role}”")
    region = None
    if region_name:
        region = find_region(session, region_name)
        if region is None:
            raise AccountError(f"不认识的地区“{region_name}”")
    elif role == "officer":
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
