"""One-time codes that link an officer's console account to their Telegram user."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from knowledge.models import Account, AuditLog
from knowledge.people.accounts import (
    account_for_telegram_user,
    create_account,
    issue_telegram_link_code,
    redeem_telegram_link_code,
)


def _officer(session, username: str = "zhang") -> Account:
    return create_account(session, username, "long-enough-password", "officer", region_name="藁城", actor="admin")


def test_a_code_links_once_and_is_stored_only_as_a_hash(kb):
    with kb.scope() as session:
        code = issue_telegram_link_code(session, _officer(session), actor="admin")
        stored = session.scalars(select(Account.telegram_link_code_hash)).one()
    assert len(code) == 8 and code.isdigit() and code not in stored
    with kb.scope() as session:
        account = redeem_telegram_link_code(session, code, "123456")
        assert account is not None and account.username == "zhang"
    with kb.scope() as session:
        assert account_for_telegram_user(session, "123456").username == "zhang"
        assert redeem_telegram_link_code(session, code, "999") is None, "a used code must not work twice"
        actions = set(session.scalars(select(AuditLog.action).where(AuditLog.entity == "account")))
    assert {"link_code", "link_telegram"} <= actions


def test_wrong_expired_and_malformed_codes_link_nobody(kb):
    with kb.scope() as session:
        account = _officer(session)
        code = issue_telegram_link_code(session, account, actor="admin")
        wrong = "0" * 8 if code != "0" * 8 else "1" * 8
        assert redeem_telegram_link_code(session, wrong, "1") is None
        assert redeem_telegram_link_code(session, "abc", "1") is None
        assert redeem_telegram_link_code(session, "", "1") is None
        account.telegram_link_code_expires_at = dt.datetime(2000, 1, 1)
        assert redeem_telegram_link_code(session, code, "1") is None
        assert account_for_telegram_user(session, "1") is None


def test_one_telegram_user_belongs_to_one_account(kb):
    with kb.scope() as session:
        first, second = _officer(session, "first"), _officer(session, "second")
        redeem_telegram_link_code(session, issue_telegram_link_code(session, first, "admin"), "42")
        redeem_telegram_link_code(session, issue_telegram_link_code(session, second, "admin"), "42")
        assert first.telegram_user_id is None and second.telegram_user_id == "42"
