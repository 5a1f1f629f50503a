"""需要更新: the products and regions whose prices are old and the articles past their year or review date, most
asked by farmers first, for officers (their region's) and admins (everything)."""
from __future__ import annotations

import asyncio

import aiohttp_jinja2
from aiohttp import web

from console.context import ConsoleContext, console_context
from console.permissions import region_scope
from console.security import CurrentUser, current_user, require
from knowledge.db import session_scope
from knowledge.models import Role
from knowledge.needs_update import ASKED_DAYS, NeedsUpdate, needs_update
from settings import load_settings


def _compute(context: ConsoleContext, user: CurrentUser) -> NeedsUpdate:
    with session_scope(context.sessions) as db:
        return needs_update(db, context.tracker, context.today(), load_settings().stale_after_days,
                            region_scope(db, user))


@require(Role.ADMIN, Role.OFFICER)
async def needs_update_page(request: web.Request) -> web.Response:
    """Stale prices and due articles; reading the tracker store runs on a worker thread, as the dashboard's."""
    context = console_context(request)
    found = await asyncio.get_running_loop().run_in_executor(None, _compute, context, current_user(request))
    return aiohttp_jinja2.render_template("needs_update.html", request, {
        "found": found, "stale_after_days": load_settings().stale_after_days, "asked_days": ASKED_DAYS,
    })
