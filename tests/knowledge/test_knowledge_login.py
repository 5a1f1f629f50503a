"""Console sign-in rules in knowledge.people.login: lock-out after five wrong passwords, deactivated accounts."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from knowledge.models import AuditLog, utcnow
from knowledge.people.accounts import account_by_id, create_account, set_account_active, unlock_account
from knowledge.people.login import LOCKOUT, MAX_FAILED_LOGINS, attempt_login, change_password

PASSWORD = "long-enough-password"


def _account_id(kb) -> int:
    with kb.scope() as session:
        return create_account(session, "zhang", PASSWORD, "officer", region_name="藁城", actor="admin").id


def test_the_fifth_wrong_password_locks_the_account_until_the_lock_runs_out(kb):
    account_id = _account_id(kb)
    now = utcnow()
    with kb.scope() as session:
        for _ in range(MAX_FAILED_LOGINS - 1):
            assert attempt_login(session, "zhang", "wrong", now).error == "用户名或密码不对。"
        assert "已锁定" in attempt_login(session, "zhang", "wrong", now).error
        assert "已锁定" in attempt_login(session, "zhang", PASSWORD, now + LOCKOUT - dt.timedelta(seconds=1)).error
        assert attempt_login(session, "zhang", PASSWORD, now + LOCKOUT).account.id == account_id
    with kb.scope() as session:
        account = account_by_id(session, account_id)
        assert account.failed_logins == 0 and account.locked_until is None


def test_unlocking_and_deactivating_are_audited_and_a_deactivated_account_cannot_sign_in(kb):
    account_id = _account_id(kb)
    now = utcnow()
    with kb.scope() as session:
        for _ in range(MAX_FAILED_LOGINS):
            attempt_login(session, "zhang", "wrong", now)
        unlock_account(session, account_by_id(session, account_id), "admin")
        assert attempt_login(session, "zhang", PASSWORD, now).account is not None
        set_account_active(session, account_by_id(session, account_id), False, "admin")
        assert attempt_login(session, "zhang", PASSWORD, now).error == "这个账号已停用，请联系管理员。"
        audited = set(session.scalars(select(AuditLog.action).where(AuditLog.entity_id == account_id,
                                                                    AuditLog.entity == "account")))
    assert {"unlock", "update"} <= audited


def test_a_password_changes_only_with_the_current_one_and_a_new_long_one(kb):
    account_id = _account_id(kb)
    with kb.scope() as session:
        account = account_by_id(session, account_id)
        assert change_password(session, account, "wrong", "another-long-one", "another-long-one") == "当前密码不对。"
        assert change_password(session, account, PASSWORD, "short", "short").startswith("新密码至少要")
        assert change_password(session, account, PASSWORD, "another-long-one", "another-long-one") == ""
    with kb.scope() as session:
        assert attempt_login(session, "zhang", "another-long-one").account is not None
