"""Accounts (admins): create, deactivate, unlock; and the Telegram link code for officers."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context
from console.security import ROLE_NAMES, current_user, flash, require
from console.views.forms import checkbox
from knowledge.db import session_scope
from knowledge.models import Account, Role, utcnow
from knowledge.people.accounts import (
    LINK_CODE_TTL,
    AccountError,
    account_by_id,
    all_accounts,
    create_account,
    issue_telegram_link_code,
    set_account_active,
)
from knowledge.people.login import unlock_account, username_locks


def _accounts_page(request: web.Request, db, error: str = "", values=None, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("accounts.html", request, {
        "accounts": all_accounts(db), "locks": username_locks(db), "roles": ROLE_NAMES, "error": error,
        "values": values or {},
    }, status=status)


@require(Role.ADMIN)
async def account_list(request: web.Request) -> web.Response:
    """Every account with its role, region, lock and Telegram state."""
    with session_scope(console_context(request).sessions) as db:
        return _accounts_page(request, db)


@require(Role.ADMIN)
async def account_create(request: web.Request) -> web.Response:
    """Create an account (argon2 hash; the password is never stored or logged)."""
    user = current_user(request)
    form = await request.post()
    with session_scope(console_context(request).sessions) as db:
        try:
            account = create_account(
                db, str(form.get("username", "")), str(form.get("password", "")), str(form.get("role", "")),
                str(form.get("region", "")).strip() or None, str(form.get("display_name", "")).strip() or None,
                actor=user.username,
            )
        except AccountError as error:
            db.rollback()
            values = {name: form.get(name, "") for name in ("username", "role", "region", "display_name")}
            return _accounts_page(request, db, str(error), values, status=400)
        message = f"账号已创建：{account.username}"
    await flash(request, message)
    raise web.HTTPFound("/accounts")


def _account(db, request: web.Request) -> Account:
    account = account_by_id(db, int(request.match_info["account_id"]))
    if account is None:
        raise web.HTTPNotFound(text="没有这个账号")
    return account


@require(Role.ADMIN)
async def account_set_active(request: web.Request) -> web.Response:
    """Deactivate or reactivate an account (a deactivated one is signed out at its next request)."""
    user = current_user(request)
    form = await request.post()
    active = checkbox(form, "active")
    with session_scope(console_context(request).sessions) as db:
        account = _account(db, request)
        if account.id == user.id and not active:
            raise web.HTTPBadRequest(text="不能停用自己的账号")
        set_account_active(db, account, active, user.username)
        message = f"{account.username} 已{'启用' if active else '停用'}"
    await flash(request, message)
    raise web.HTTPFound("/accounts")


@require(Role.ADMIN)
async def account_unlock(request: web.Request) -> web.Response:
    """Lift a lock-out after too many wrong passwords."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        account = _account(db, request)
        unlock_account(db, account, user.username)
        message = f"{account.username} 已解锁"
    await flash(request, message)
    raise web.HTTPFound("/accounts")


def _telegram_page(request: web.Request, account: Account, code: str = "") -> web.Response:
    return aiohttp_jinja2.render_template("telegram_link.html", request, {
        "account": account, "code": code, "minutes": int(LINK_CODE_TTL.total_seconds() // 60),
        "pending": account.telegram_link_code_expires_at is not None
        and account.telegram_link_code_expires_at > utcnow(),
    })


async def _telegram(request: web.Request, account_id: int) -> web.Response:
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        account = account_by_id(db, account_id)
        if account is None:
            raise web.HTTPNotFound(text="没有这个账号")
        if account.role != Role.OFFICER and account.id != user.id:
            raise web.HTTPBadRequest(text="只有信息员账号需要绑定 Telegram")
        code = ""
        if request.method == "POST":
            code = issue_telegram_link_code(db, account, actor=user.username)
        return _telegram_page(request, account, code)


@require(Role.OFFICER, Role.ADMIN)
async def own_telegram(request: web.Request) -> web.Response:
    """The signed-in officer's Telegram link: status, and a fresh one-time code on POST."""
    return await _telegram(request, current_user(request).id)


@require(Role.ADMIN)
async def account_telegram(request: web.Request) -> web.Response:
    """An admin generates the Telegram link code for an officer."""
    return await _telegram(request, int(request.match_info["account_id"]))
