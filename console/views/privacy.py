"""Forgetting a farmer who asked by phone (admins only): find them by sender id or by the mobile number they gave,
confirm, forget (knowledge.privacy.forgetting). The console only reads Rasa's tracker store: the farmer's
conversation is queued, and the gateway's retention scheduler anonymises it within a minute or so."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import List, Optional

import aiohttp_jinja2
from aiohttp import web

from console.context import ConsoleContext, console_context
from console.security import current_user, flash, require
from knowledge.db import session_scope
from knowledge.handoff.inbox import conversation_tickets
from knowledge.models import Role
from knowledge.people.farmers import find_farmer
from knowledge.privacy.forgetting import forget_farmer, mobile_number, senders_mentioning_phone

# The sender ids the gateway gives (tg-<Telegram id>, web-<HMAC>, the old web-<random>).
SENDER_ID = re.compile(r"(tg-\d{1,20}|web-[A-Za-z0-9_-]{1,64})")
ASK_WHO = "请填写农户留的手机号，或者对话编号（tg-… 或 web-…，在对话页面的地址里）。"


@dataclass(frozen=True)
class Match:
    """A farmer a request may mean, with what the admin needs to recognise them."""

    sender_id: str
    name: Optional[str]
    region: Optional[str]
    tickets: int
    conversation: bool


def _page(request: web.Request, who: str = "", error: str = "", matches: Optional[List[Match]] = None,
          status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("forget_farmer.html", request, {
        "who": who, "error": error, "matches": matches}, status=status)


def _matches(context: ConsoleContext, who: str, phone: Optional[str]) -> List[Match]:
    with session_scope(context.sessions) as db:
        senders = senders_mentioning_phone(db, context.tracker, phone) if phone else [who]
        matches = []
        for sender in senders:
            farmer = find_farmer(db, sender)
            tickets = len(conversation_tickets(db, sender))
            conversation = context.tracker.exists(sender)
            if farmer is None and not tickets and not conversation:
                continue
            matches.append(Match(sender, farmer.display_name if farmer else None,
                                 farmer.region.name if farmer and farmer.region else None, tickets, conversation))
        return matches


@require(Role.ADMIN)
async def forget_page(request: web.Request) -> web.Response:
    """The form: whose records to delete, by phone number or sender id."""
    return _page(request)


@require(Role.ADMIN)
async def forget_preview(request: web.Request) -> web.Response:
    """The farmers the number or id finds, each with what is kept of them, and the button that confirms."""
    form = await request.post()
    who = str(form.get("who", "")).strip()
    phone = mobile_number(who)
    if phone is None and not SENDER_ID.fullmatch(who):
        return _page(request, who, ASK_WHO, status=400)
    # The tracker store is searched message by message: off the event loop.
    matches = await asyncio.to_thread(_matches, console_context(request), who, phone)
    return _page(request, who, matches=matches)


@require(Role.ADMIN)
async def forget_confirm(request: web.Request) -> web.Response:
    """Forget the confirmed farmers; audited under the admin's name, without the number or the ids."""
    user = current_user(request)
    form = await request.post()
    senders = sorted({str(value) for value in form.getall("sender_id", [])})
    if not senders or not all(SENDER_ID.fullmatch(sender) for sender in senders):
        raise web.HTTPBadRequest(text="没有选中要删除记录的农户。")
    with session_scope(console_context(request).sessions) as db:
        for sender in senders:
            forget_farmer(db, sender, user.username, via="console")
    await flash(request, f"已删除 {len(senders)} 位农户的记录；他们的对话内容会在一两分钟内由网关匿名化。")
    raise web.HTTPFound("/privacy/forget")
