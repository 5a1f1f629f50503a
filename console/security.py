"""Sessions, the signed-in account, role checks, CSRF protection and the security headers of every console route.

The cookie is encrypted (aiohttp-session's EncryptedCookieStorage, Fernet) and carries the token of a
server-side session row (knowledge.people.sessions) and the CSRF token. Every request looks the token
up with its account, so signing out, a password change or a deactivation ends every copy of the
cookie at its next click.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, FrozenSet, Optional

from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from forwarded import client_address as forwarded_client_address
from knowledge.db import SessionFactory, session_scope
from knowledge.models import Role
from knowledge.people.sessions import close_session, open_session, session_account

logger = logging.getLogger(__name__)

SESSION_COOKIE = "xiangxin_console"
SESSION_MAX_AGE_SECONDS = 8 * 3600  # one working day
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Keyed by the role's value, as accounts store it (a Role is that string too).
ROLE_NAMES: Dict[str, str] = {Role.ADMIN: "管理员", Role.OFFICER: "信息员", Role.REVIEWER: "审核员"}
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# A signed-out visitor's form (the sign-in) is small; anything larger is refused before it is read.
SIGNED_OUT_BODY_LIMIT = 64 * 1024
# No inline script or style anywhere (console/static/console.js does the confirmations), no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY = "console_user"
TRUSTED_PROXIES_KEY = web.AppKey("trusted_proxies", FrozenSet[str])


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in account as a request sees it (no password hash travels with it)."""

    id: int
    username: str
    display_name: str
    role: str
    region_id: Optional[int]
    region_name: Optional[str]

    @property
    def role_name(self) -> str:
        """The role in Chinese."""
        return ROLE_NAMES.get(self.role, self.role)


class Forbidden(web.HTTPForbidden):
    """A 403 whose reason is shown to the person in plain Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(reason="Forbidden")
        self.message = message


class CsrfRejected(web.HTTPForbidden):
    """A 403 for a form without a valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(reason="CSRF token missing or wrong")
        self.message = "表单已过期或不是从本系统提交的，已拒绝。请返回上一页、刷新后再提交。"


def session_storage(secret_key: str, secure_cookie: bool) -> EncryptedCookieStorage:
    """Encrypted, HttpOnly, SameSite=Lax cookie storage keyed by CONSOLE_SECRET_KEY.

    Without a key a random one is made, so sessions simply end when the console restarts.
    """
    if not secret_key:
        logger.warning("CONSOLE_SECRET_KEY is not set: using a random key, sessions end when the console restarts")
        secret_key = secrets.token_urlsafe(32)
    # Fernet wants exactly 32 bytes (the storage base64-encodes raw bytes itself); any secret maps onto them.
    return EncryptedCookieStorage(
        hashlib.sha256(secret_key.encode("utf-8")).digest(),
        cookie_name=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=secure_cookie,
    )


async def csrf_token(request: web.Request) -> str:
    """This session's CSRF token, created on first use."""
    session = await get_session(request)
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


async def start_session(request: web.Request, factory: SessionFactory, account_id: int) -> None:
    """A fresh session for a person who just signed in (a new token, row and CSRF token, against session fixation)."""
    with session_scope(factory) as db:
        token = open_session(db, account_id, dt.timedelta(seconds=SESSION_MAX_AGE_SECONDS))
    session = await new_session(request)
    session["token"] = token
    session["csrf"] = secrets.token_urlsafe(24)


async def end_session(request: web.Request, factory: SessionFactory) -> None:
    """Sign out: the session's row goes, so a copy of the cookie is worthless too."""
    session = await get_session(request)
    token = session.get("token")
    if token:
        with session_scope(factory) as db:
            close_session(db, str(token))
    session.invalidate()


def _load_user(factory: SessionFactory, token: str) -> Optional[CurrentUser]:
    with session_scope(factory) as db:
        account = session_account(db, token)
        if account is None:
            return None
        return CurrentUser(
            id=account.id,
            username=account.username,
            display_name=account.display_name or account.username,
            role=account.role,
            region_id=account.region_id,
            region_name=account.region.name if account.region is not None else None,
        )


def user_middleware(factory_of: Callable[[web.Application], SessionFactory]) -> Callable:
    """Middleware that puts the signed-in account (or None) on request[USER_KEY]; `factory_of` finds the DB."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[USER_KEY] = None
        if not request.path.startswith("/static/") and request.path not in ("/healthz", "/metrics"):
            session = await get_session(request)
            token = session.get("token")
            if token:
                user = _load_user(factory_of(request.app), str(token))
                if user is None:  # signed out elsewhere, password changed, expired or deactivated
                    session.invalidate()
                request[USER_KEY] = user
        return await handler(request)

    return middleware


def _reject(request: web.Request) -> CsrfRejected:
    logger.warning("Rejected %s %s: CSRF token missing or wrong", request.method, request.path)
    return CsrfRejected()


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (403) every state-changing request whose CSRF token does not match the session's.

    The session is checked before the body is read: without a token in the session, or signed out with
    a body larger than a sign-in form, the request is refused unread.
    """
    if request.method in UNSAFE_METHODS:
        session = await get_session(request)
        expected = session.get("csrf")
        if not expected:
            raise _reject(request)
        submitted = request.headers.get(CSRF_HEADER)
        if submitted is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            length = request.content_length
            if request.get(USER_KEY) is None and (length is None or length > SIGNED_OUT_BODY_LIMIT):
                raise _reject(request)
            form = await request.post()
            value = form.get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
        if not submitted or not hmac.compare_digest(str(expected), submitted):
            raise _reject(request)
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: CSP, no framing, no sniffing, and console pages kept out of every cache.

    A response that set its own policy (a farmer's file) keeps it; static files may be cached.
    """
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


def client_address(request: web.Request) -> str:
    """The browser's address (forwarded.client_address with this app's trusted proxies)."""
    return forwarded_client_address(request.remote or "", request.headers.get("X-Forwarded-For", ""),
                                    request.app[TRUSTED_PROXIES_KEY])


def current_user(request: web.Request) -> CurrentUser:
    """The signed-in account; only for handlers behind `require`."""
    user = request.get(USER_KEY)
    if user is None:
        raise web.HTTPFound("/login")
    return user


def require(*roles: str) -> Callable[[Handler], Handler]:
    """Decorator: sign-in required (else redirect to /login), and one of `roles` (else a 403 page)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            user = request.get(USER_KEY)
            if user is None:
                if request.method == "GET":
                    raise web.HTTPFound(f"/login?next={request.rel_url.path_qs}" if request.path != "/" else "/login")
                raise web.HTTPFound("/login")
            if roles and user.role not in roles:
                allowed = "、".join(ROLE_NAMES[role] for role in roles)
                raise Forbidden(f"这个页面只有{allowed}可以使用，您的账号是{user.role_name}。")
            return await handler(request)

        return checked

    return decorate


async def flash(request: web.Request, message: str) -> None:
    """A one-time notice shown on the next page (after a redirect)."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), message][-5:]


async def take_flashes(request: web.Request) -> list:
    """The notices waiting for this session, removed as they are read."""
    session = await get_session(request)
    return session.pop("flash", []) if "flash" in session else []
