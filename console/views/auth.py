"""Signing in and out."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context
from console.password_checks import BUSY, ChecksBusy
from console.security import USER_KEY, client_address, current_user, end_session, flash, require, start_session
from knowledge.db import SessionFactory, session_scope
from knowledge.people.accounts import account_by_id
from knowledge.people.login import attempt_login, change_password


def _safe_next(target: str) -> str:
    # Only paths on this site: "//evil.example" or "https://…" would make the login an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _login_form(request: web.Request, error: str, username: str, target: str, status: int = 200) -> web.Response:
    limits = console_context(request).login_limits
    return aiohttp_jinja2.render_template("login.html", request, {
        "error": error, "username": username, "next": target, "max_failures": limits.max_failures,
        "lock_minutes": max(1, round(limits.lock.total_seconds() / 60)),
    }, status=status)


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    if request.get(USER_KEY) is not None:
        raise web.HTTPFound("/")
    return _login_form(request, "", "", _safe_next(request.query.get("next", "/")))


async def login_submit(request: web.Request) -> web.Response:
    """Check the password (with back-off per username and address) and start a session."""
    form = await request.post()
    username = str(form.get("username", ""))
    target = _safe_next(str(form.get("next", "/")))
    context = console_context(request)
    try:
        # argon2 is deliberately slow: on a worker thread, and only a few at once (the gate).
        result = await context.password_checks.run(
            attempt_login, context.sessions, username, str(form.get("password", "")), client_address(request),
            context.login_limits)
    except ChecksBusy:
        return _login_form(request, BUSY, username, target, status=503)
    if result.account_id is None:
        return _login_form(request, result.error, username, target, status=401)
    await start_session(request, context.sessions, result.account_id)
    raise web.HTTPFound(target)


async def logout(request: web.Request) -> web.Response:
    """End the session, every copy of its cookie included."""
    await end_session(request, console_context(request).sessions)
    raise web.HTTPFound("/login")


@require()
async def password_page(request: web.Request) -> web.Response:
    """The form to change one's own password."""
    return aiohttp_jinja2.render_template("password.html", request, {"error": ""})


def _change(factory: SessionFactory, account_id: int, current: str, new: str, repeated: str) -> str:
    with session_scope(factory) as db:
        account = account_by_id(db, account_id)
        assert account is not None  # the signed-in account, which the session middleware just loaded
        return change_password(db, account, current, new, repeated)


@require()
async def password_submit(request: web.Request) -> web.Response:
    """Change one's own password (argon2 on a worker thread, through the gate)."""
    form = await request.post()
    context = console_context(request)
    try:
        error = await context.password_checks.run(
            _change, context.sessions, current_user(request).id,
            str(form.get("current", "")), str(form.get("new", "")), str(form.get("repeated", "")))
    except ChecksBusy:
        return aiohttp_jinja2.render_template("password.html", request, {"error": BUSY}, status=503)
    if error:
        return aiohttp_jinja2.render_template("password.html", request, {"error": error}, status=400)
    # change_password ended every session of the account; this browser continues in a new one.
    await start_session(request, context.sessions, current_user(request).id)
    await flash(request, "密码已修改，其他设备上的登录已退出")
    raise web.HTTPFound("/")
