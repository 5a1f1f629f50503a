"""Console sign-in rules in knowledge.people.login: a short lock after repeated failures, admins' unlock,
deactivated accounts, password changes."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from knowledge.models import AuditLog, utcnow
from knowledge.people.accounts import account_by_id, create_account, set_account_active
from knowledge.people.login import (
    FAILED_SIGN_IN,
    LoginLimits,
    attempt_login,
    change_password,
    unlock_account,
    username_locks,
)

PASSWORD = "long-enough-password"
LIMITS = LoginLimits()
ADDRESS = "192.0.2.1"


def _account_id(kb) -> int:
    with kb.scope() as session:
        return create_account(session, "zhang", PASSWORD, "officer", region_name="藁城", actor="admin").id


def test_the_fifth_wrong_password_locks_the_username_until_the_lock_runs_out(kb):
    account_id = _account_id(kb)
    now = utcnow()
    for _ in range(LIMITS.max_failures):
        assert attempt_login(kb.factory, "zhang", "wrong", ADDRESS, LIMITS, now).error == FAILED_SIGN_IN
    with kb.scope() as session:
        assert username_locks(session, now) == {"zhang": now + LIMITS.lock}
    just_before = now + LIMITS.lock - dt.timedelta(seconds=1)
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, LIMITS, just_before).account_id is None
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, LIMITS, now + LIMITS.lock).account_id == account_id
    with kb.scope() as session:
        assert username_locks(session, now) == {}


def test_unlocking_and_deactivating_are_audited_and_a_deactivated_account_cannot_sign_in(kb):
    account_id = _account_id(kb)
    now = utcnow()
    for _ in range(LIMITS.max_failures):
        attempt_login(kb.factory, "zhang", "wrong", ADDRESS, LIMITS, now)
    with kb.scope() as session:
        unlock_account(session, account_by_id(session, account_id), "admin")
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, LIMITS, now).account_id == account_id
    with kb.scope() as session:
        set_account_active(session, account_by_id(session, account_id), False, "admin")
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, LIMITS, now).error == FAILED_SIGN_IN
    with kb.scope() as session:
        audited = set(session.scalars(select(AuditLog.action).where(AuditLog.entity_id == account_id,
                                                                    AuditLog.entity == "account")))
    assert {"unlock", "update"} <= audited


def test_an_address_that_keeps_failing_waits_longer_each_time(kb):
    _account_id(kb)
    limits = LoginLimits(address_failures=3, address_backoff=dt.timedelta(seconds=10))
    now = utcnow()
    for _ in range(3):
        attempt_login(kb.factory, "someone", "wrong", ADDRESS, limits, now)
    # Blocked for 10 s: even the right password of another account is refused, without counting.
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, limits, now + dt.timedelta(seconds=9)).account_id \
        is None
    attempt_login(kb.factory, "someone", "wrong", ADDRESS, limits, now + dt.timedelta(seconds=10))
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, limits, now + dt.timedelta(seconds=29)).account_id \
        is None  # the 4th failure doubled the wait to 20 s
    assert attempt_login(kb.factory, "zhang", PASSWORD, ADDRESS, limits, now + dt.timedelta(seconds=30)).account_id \
        is not None
    assert limits.address_block(3 + 40) == limits.address_backoff_max


def test_a_password_changes_only_with_the_current_one_and_a_new_long_one(kb):
    account_id = _account_id(kb)
    with kb.scope() as session:
        account = account_by_id(session, account_id)
        assert change_password(session, account, "wrong", "another-long-one", "another-long-one") == "当前密码不对。"
        assert change_password(session, account, PASSWORD, "short", "short").startswith("新密码至少要")
        assert change_password(session, account, PASSWORD, "another-long-one", "another-long-one") == ""
    assert attempt_login(kb.factory, "zhang", "another-long-one", ADDRESS, LIMITS).account_id == account_id
