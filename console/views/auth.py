"""Signing in and out."""
from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context
from console.login import attempt_login
from console.security import USER_KEY, end_session, start_session
from knowledge.db import session_scope


def _safe_next(target: str) -> str:
    # Only paths on this site: "//evil.example" or "https://…" would make the login an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    if request.get(USER_KEY) is not None:
        raise web.HTTPFound("/")
    return aiohttp_jinja2.render_template("login.html", request, {"error": "", "username": "",
                                                                  "next": _safe_next(request.query.get("next", "/"))})


async def login_submit(request: web.Request) -> web.Response:
    """Check the password (with lock-out) and start a session."""
    form = await request.post()
    username = str(form.get("username", ""))
    target = _safe_next(str(form.get("next", "/")))
    with session_scope(console_context(request).sessions) as db:
        result = attempt_login(db, username, str(form.get("password", "")))
        if result.account is not None:
            await start_session(request, result.account)
    if result.account is None:
        return aiohttp_jinja2.render_template(
            "login.html", request, {"error": result.error, "username": username, "next": target}, status=401)
    raise web.HTTPFound(target)


async def logout(request: web.Request) -> web.Response:
    """End the session."""
    await end_session(request)
    raise web.HTTPFound("/login")
