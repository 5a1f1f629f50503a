"""The audit log: who changed what, when, with the values before and after."""
from __future__ import annotations

import datetime as dt

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select

from console.context import console_context, page_number
from console.security import require
from knowledge.db import session_scope
from knowledge.models import AuditLog, Role

PAGE_SIZE = 50


@require(Role.ADMIN, Role.OFFICER)
async def audit_list(request: web.Request) -> web.Response:
    """Audit entries, newest first, filtered by what changed, who changed it and when."""
    page = page_number(request)
    query = request.query
    with session_scope(console_context(request).sessions) as db:
        statement = select(AuditLog)
        if query.get("entity"):
            statement = statement.where(AuditLog.entity == query["entity"])
        if query.get("actor"):
            statement = statement.where(AuditLog.actor == query["actor"].strip())
        if query.get("entity_id", "").isdigit():
            statement = statement.where(AuditLog.entity_id == int(query["entity_id"]))
        for name, compare in (("since", AuditLog.at.__ge__), ("until", AuditLog.at.__lt__)):
            try:
                day = dt.date.fromisoformat(query.get(name, ""))
            except ValueError:
                continue
            edge = dt.datetime.combine(day + dt.timedelta(days=1 if name == "until" else 0), dt.time())
            statement = statement.where(compare(edge))
        total = db.scalar(select(func.count()).select_from(statement.subquery()))
        entries = db.scalars(statement.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                             .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        entities = db.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)).all()
    return aiohttp_jinja2.render_template("audit.html", request, {
        "entries": entries, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "query": query, "entities": entities,
    })
