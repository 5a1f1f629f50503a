"""Signing in: argon2 passwords, lock-out after repeated failures, encrypted HttpOnly SameSite cookies, logout."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from knowledge.models import Account, LoginThrottle, utcnow
from knowledge.people.login import FAILED_SIGN_IN, username_locks
from tests.console.conftest import PASSWORD, csrf_of, sign_in


async def _try(client, username: str, password: str):
    token = csrf_of(await (await client.get("/login")).text())
    return await client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                             allow_redirects=False)


async def test_wrong_password_is_refused_in_plain_chinese(client) -> None:
    response = await _try(client, "gaocheng", "wrong-password")
    assert response.status == 401
    assert FAILED_SIGN_IN in await response.text()
    unknown = await _try(client, "nobody", "wrong-password")
    assert unknown.status == 401 and FAILED_SIGN_IN in await unknown.text()


async def test_five_failures_lock_the_account_even_against_the_right_password(client, knowledge) -> None:
    for _ in range(5):
        assert (await _try(client, "gaocheng", "wrong-password")).status == 401
    locked = await _try(client, "gaocheng", PASSWORD)
    assert locked.status == 401 and FAILED_SIGN_IN in await locked.text()
    with knowledge() as session:
        until = username_locks(session)["gaocheng"]
        assert utcnow() + dt.timedelta(minutes=4) < until <= utcnow() + dt.timedelta(minutes=5)
        # When the lock has run out, the right password works again.
        session.execute(update(LoginThrottle).values(blocked_until=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    assert (await _try(client, "gaocheng", PASSWORD)).status == 302


async def test_admin_unlocks_a_locked_account(client, knowledge) -> None:
    for _ in range(5):
        await _try(client, "reviewer", "wrong-password")
    token = await sign_in(client, "admin")
    with knowledge() as session:
        account_id = session.scalars(select(Account.id).where(Account.username == "reviewer")).one()
    assert "锁定到" in await (await client.get("/accounts")).text()
    response = await client.post(f"/accounts/{account_id}/unlock", data={"csrf_token": token})
    assert "reviewer 已解锁" in await response.text()
    client.session.cookie_jar.clear()
    assert (await _try(client, "reviewer", PASSWORD)).status == 302


async def test_session_cookie_is_encrypted_httponly_and_samesite(client) -> None:
    token = csrf_of(await (await client.get("/login")).text())
    response = await client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                                 allow_redirects=False)
    header = response.headers["Set-Cookie"]
    assert header.startswith("xiangxin_console=")
    assert "HttpOnly" in header and "SameSite=Lax" in header
    value = header.split(";", 1)[0].split("=", 1)[1]
    assert "account_id" not in value and "csrf" not in value  # Fernet-encrypted, not readable JSON


async def test_logout_ends_the_session(client) -> None:
    token = await sign_in(client, "admin")
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 302
    assert (await client.get("/", allow_redirects=False)).status == 302


async def test_a_deactivated_account_is_signed_out_at_its_next_click(client, knowledge) -> None:
    await sign_in(client, "gaocheng")
    with knowledge() as session:
        account = session.scalars(select(Account).where(Account.username == "gaocheng")).one()
        account.active = False
        session.commit()
    assert (await client.get("/prices", allow_redirects=False)).status == 302
    refused = await _try(client, "gaocheng", PASSWORD)
    assert refused.status == 401 and FAILED_SIGN_IN in await refused.text()


async def test_login_only_redirects_within_the_site(client) -> None:
    page = await (await client.get("/login?next=//evil.example/")).text()
    token = csrf_of(page)
    response = await client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                                 "next": "//evil.example/"}, allow_redirects=False)
    assert response.headers["Location"] == "/"
    client.session.cookie_jar.clear()
    token = csrf_of(await (await client.get("/login")).text())
    response = await client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                                 "next": "/prices?confidence=V"}, allow_redirects=False)
    assert response.headers["Location"] == "/prices?confidence=V"


async def test_password_hashes_are_argon2(knowledge) -> None:
    with knowledge() as session:
        hashes = session.scalars(select(Account.password_hash)).all()
    assert hashes and all(value.startswith("$argon2id$") for value in hashes)


async def test_changing_ones_own_password(client, knowledge) -> None:
    token = await sign_in(client, "reviewer")
    wrong = await client.post("/account/password", data={"csrf_token": token, "current": "nope-nope",
                                                         "new": "new-password-1", "repeated": "new-password-1"})
    assert wrong.status == 400 and "当前密码不对" in await wrong.text()
    short = await client.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                         "new": "short", "repeated": "short"})
    assert "至少要 8 位" in await short.text()
    done = await client.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                        "new": "new-password-1", "repeated": "new-password-1"})
    assert "密码已修改" in await done.text()
    client.session.cookie_jar.clear()
    assert (await _try(client, "reviewer", PASSWORD)).status == 401
    assert (await _try(client, "reviewer", "new-password-1")).status == 302
    with knowledge() as session:
        from knowledge.models import AuditLog

        entry = session.scalars(select(AuditLog).where(AuditLog.action == "password")).one()
        assert "new-password-1" not in (entry.after or "") and entry.actor == "reviewer"
