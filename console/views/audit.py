"""The audit log: who changed what, when, with the values before and after."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context, page_number
from console.permissions import region_scope
from console.security import CurrentUser, current_user, require
from knowledge.audit import AuditViewer, audit_page, audited_entities
from knowledge.db import Session, session_scope
from knowledge.models import Role

PAGE_SIZE = 50


def _day(text: str) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _viewer(db: Session, user: CurrentUser) -> Optional[AuditViewer]:
    """Admins read every entry; an officer what their region and their own actions allow (knowledge.audit)."""
    scope = region_scope(db, user)
    return None if scope is None else AuditViewer(user.username, user.id, scope)


@require(Role.ADMIN, Role.OFFICER)
async def audit_list(request: web.Request) -> web.Response:
    """Audit entries the account may read, newest first, filtered by what changed, who changed it and when."""
    page = page_number(request.query)
    query = request.query
    with session_scope(console_context(request).sessions) as db:
        entries = audit_page(
            db, entity=query.get("entity", ""), actor=query.get("actor", ""),
            entity_id=int(query["entity_id"]) if query.get("entity_id", "").isdigit() else None,
            since=_day(query.get("since", "")), until=_day(query.get("until", "")), number=page, size=PAGE_SIZE,
            viewer=_viewer(db, current_user(request)),
        )
        entities = audited_entities(db)
    return aiohttp_jinja2.render_template("audit.html", request, {
        "entries": entries.rows, "total": entries.total, "page": page, "pages": entries.pages,
        "query": query, "entities": entities,
    })
