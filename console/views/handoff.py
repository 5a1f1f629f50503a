"""The handoff inbox: officers answer the tickets of their region; the gateway delivers the answers."""
from __future__ import annotations

from typing import Optional, Set

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context, page_number
from console.permissions import region_scope
from console.security import CurrentUser, Forbidden, current_user, flash, require
from console.telegram_files import ONLY_IN_TELEGRAM
from console.views.conversations import transcript_context
from knowledge.db import Session, session_scope
from knowledge.handoff.answers import MAX_ANSWER_LENGTH, AnswerRefused, answer_ticket, push_statuses, ticket_push
from knowledge.handoff.inbox import inbox_tickets, ticket_by_id
from knowledge.models import HandoffTicket, Role
from knowledge.paging import Page
from knowledge.people.accounts import account_by_id

STATUS_LABELS = {"open": "待回答", "answered": "已回答，等待发送", "delivered": "已送达农户", "closed": "已关闭"}
# What the officer is told about the push of an answered ticket, by the push's status.
DELIVERY_LABELS = {"pending": "等待发送", "sending": "正在发送", "sent": "已发送", "failed": "发送失败"}
PAGE_SIZE = 50
RECENT_DELIVERIES = 20


def _visible(ticket: HandoffTicket, scope: Optional[Set[int]]) -> bool:
    # A ticket whose farmer's region is unknown goes to the admins only: there is no deployment region
    # setting yet to route it to that region's officers, and no officer may read every region's farmers.
    return scope is None or (ticket.region_id is not None and ticket.region_id in scope)


def _tickets(db: Session, user: CurrentUser, statuses, newest_first: bool, number: int = 1,
             size: int = PAGE_SIZE) -> Page:
    return inbox_tickets(db, statuses, region_scope(db, user), newest_first, number, size)


@require(Role.ADMIN, Role.OFFICER)
async def handoff_inbox(request: web.Request) -> web.Response:
    """Open tickets of the officer's region, oldest first, a page at a time (?page=); then answers awaiting delivery
    (?answered_page=) and the latest deliveries."""
    user = current_user(request)
    query = request.query
    with session_scope(console_context(request).sessions) as db:
        answered = _tickets(db, user, ("answered",), False, page_number({"page": query.get("answered_page", "1")}))
        return aiohttp_jinja2.render_template("handoff.html", request, {
            "open": _tickets(db, user, ("open",), False, page_number(query)),
            "answered": answered,
            "done": _tickets(db, user, ("delivered", "closed"), True, size=RECENT_DELIVERIES).rows,
            "query": query,
            "statuses": STATUS_LABELS,
            "deliveries": push_statuses(db, (ticket.id for ticket in answered.rows)),
            "delivery_labels": DELIVERY_LABELS,
        })


def visible_ticket(db: Session, request: web.Request, user: CurrentUser) -> HandoffTicket:
    """The ticket of the route, or 404; a 403 unless it is in the user's region."""
    ticket = ticket_by_id(db, int(request.match_info["ticket_id"]))
    if ticket is None:
        raise web.HTTPNotFound(text="没有这个工单")
    if not _visible(ticket, region_scope(db, user)):
        raise Forbidden("这个工单不属于您负责的地区。")
    return ticket


def _render(request: web.Request, db: Session, ticket: HandoffTicket, error: str = "", status: int = 200,
            draft: Optional[str] = None):
    values = transcript_context(db, console_context(request), ticket.conversation_id, request.query)
    values.update({"ticket": ticket, "statuses": STATUS_LABELS, "error": error, "can_review": False,
                   "max_answer": MAX_ANSWER_LENGTH, "push": ticket_push(db, ticket.id),
                   "draft": ticket.answer or "" if draft is None else draft,
                   "delivery_labels": DELIVERY_LABELS,
                   "files_online": console_context(request).telegram_files is not None,
                   "only_in_telegram": ONLY_IN_TELEGRAM})
    return aiohttp_jinja2.render_template("ticket.html", request, values, status=status)


@require(Role.ADMIN, Role.OFFICER)
async def ticket_view(request: web.Request) -> web.Response:
    """A ticket with the farmer's conversation and the answer form."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        return _render(request, db, visible_ticket(db, request, user))


@require(Role.ADMIN, Role.OFFICER)
async def ticket_answer(request: web.Request) -> web.Response:
    """Record the officer's answer and queue it for the gateway to deliver; audited."""
    user = current_user(request)
    form = await request.post()
    factory = console_context(request).sessions
    try:
        with session_scope(factory) as db:
            ticket = visible_ticket(db, request, user)
            officer = account_by_id(db, user.id)
            assert officer is not None  # the signed-in account, which the session middleware just loaded
            answer_ticket(db, ticket, str(form.get("answer", "")), officer)
            ticket_id = ticket.id
    except AnswerRefused as refused:
        # The refused change was rolled back: show the ticket as it stands, the reason, and what was typed.
        with session_scope(factory) as db:
            return _render(request, db, visible_ticket(db, request, user), refused.message,
                           status=409 if refused.conflict else 400, draft=str(form.get("answer", "")))
    await flash(request, f"工单 #{ticket_id} 已回答，系统会把回答发送给农户")
    raise web.HTTPFound("/handoff")
