"""Signing in and out."""
from __future__ import annotations

import asyncio
from typing import Optional, Tuple

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context
from console.security import USER_KEY, current_user, end_session, flash, require, start_session
from knowledge.db import SessionFactory, session_scope
from knowledge.people.accounts import account_by_id
from knowledge.people.login import attempt_login, change_password


def _safe_next(target: str) -> str:
    # Only paths on this site: "//evil.example" or "https://…" would make the login an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    if request.get(USER_KEY) is not None:
        raise web.HTTPFound("/")
    return aiohttp_jinja2.render_template("login.html", request, {"error": "", "username": "",
                                                                  "next": _safe_next(request.query.get("next", "/"))})


def _check_login(factory: SessionFactory, username: str, password: str) -> Tuple[Optional[int], str]:
    with session_scope(factory) as db:
        result = attempt_login(db, username, password)
        return (result.account.id if result.account is not None else None), result.error


async def login_submit(request: web.Request) -> web.Response:
    """Check the password (with lock-out) and start a session."""
    form = await request.post()
    username = str(form.get("username", ""))
    target = _safe_next(str(form.get("next", "/")))
    # argon2 is deliberately slow: verify on a worker thread so other people's pages keep loading.
    account_id, error = await asyncio.get_running_loop().run_in_executor(
        None, _check_login, console_context(request).sessions, username, str(form.get("password", "")))
    if account_id is None:
        return aiohttp_jinja2.render_template(
            "login.html", request, {"error": error, "username": username, "next": target}, status=401)
    await start_session(request, account_id)
    raise web.HTTPFound(target)


async def logout(request: web.Request) -> web.Response:
    """End the session."""
    await end_session(request)
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
    """Change one's own password (argon2 on a worker thread)."""
    form = await request.post()
    error = await asyncio.get_running_loop().run_in_executor(
        None, _change, console_context(request).sessions, current_user(request).id,
        str(form.get("current", "")), str(form.get("new", "")), str(form.get("repeated", "")))
    if error:
        return aiohttp_jinja2.render_template("password.html", request, {"error": error}, status=400)
    await flash(request, "密码已修改")
    raise web.HTTPFound("/")
