"""The dashboard at /: conversation figures as charts, and what the knowledge base holds."""
from __future__ import annotations

import asyncio

import aiohttp_jinja2
from aiohttp import web

from console.charts import bar_chart, column_chart, rate_bar
from console.context import ConsoleContext, console_context
from console.permissions import region_scope
from console.security import CurrentUser, current_user, require
from knowledge.conversations.dashboard import DashboardFigures, dashboard_figures
from knowledge.db import session_scope
from knowledge.models import Role


def _figures(context: ConsoleContext, user: CurrentUser, days: int) -> DashboardFigures:
    with session_scope(context.sessions) as db:
        # Reviewers read every conversation, so they see every region's figures; officers their region's.
        regions = region_scope(db, user) if user.role == Role.OFFICER else None
        return dashboard_figures(db, context.tracker, context.today(), days, regions)


@require()
async def dashboard_page(request: web.Request) -> web.Response:
    """Messages per day, top intents, fallback and handoff rates, time to answer, products, unanswered questions
    (an officer's of their region).

    Computed on a worker thread: over a large tracker store it takes about a second (bench/console_bench.py).
    """
    context = console_context(request)
    try:
        days = min(max(int(request.query.get("days", "30")), 7), 365)
    except ValueError:
        days = 30
    figures = await asyncio.get_running_loop().run_in_executor(None, _figures, context, current_user(request), days)
    charts = {
        "per_day": column_chart(figures.messages_per_day, f"最近 {days} 天每天的消息数",
                                label_every=max(1, days // 6)),
        "intents": bar_chart(figures.top_intents, "最常见的意图"),
        "products": bar_chart(figures.top_products, "问得最多的产品", unit="次"),
        "fallback": rate_bar(figures.fallback_rate, "没听懂的比例"),
        "handoff": rate_bar(figures.handoff_rate, "转人工的比例"),
    }
    return aiohttp_jinja2.render_template("dashboard.html", request, {"figures": figures, "charts": charts})


async def health(_request: web.Request) -> web.Response:
    """Readiness probe for the process runner."""
    return web.json_response({"status": "ok"})
