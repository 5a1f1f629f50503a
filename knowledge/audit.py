"""The audit trail: who changed what in the knowledge base, with the row before and after."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from knowledge.models import AuditLog, utcnow
from knowledge.paging import Page, fetch_page


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def snapshot(row: Any, columns: Iterable[str]) -> Dict[str, Any]:
    """The named attributes of a row as JSON-ready values (never pass secrets such as password hashes)."""
    return {name: _plain(getattr(row, name)) for name in columns}


def _dump(value: Optional[Dict[str, Any]]) -> Optional[str]:
    if value is None:
        return None
    return json.dumps({key: _plain(item) for key, item in value.items()}, ensure_ascii=False, sort_keys=True)


def record_change(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: Optional[int] = None,
    before: Optional[Dict[str, Any]] = None,
    after: Optional[Dict[str, Any]] = None,
) -> AuditLog:
    """Add one audit entry in the caller's transaction, so it commits or rolls back with the change."""
    entry = AuditLog(
        actor=actor, action=action, entity=entity, entity_id=entity_id, before=_dump(before), after=_dump(after)
    )
    session.add(entry)
    return entry


def record_changes(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    changes: Iterable[Tuple[Optional[int], Optional[Dict[str, Any]], Optional[Dict[str, Any]]]],
) -> int:
    """Add many audit entries (entity id, before, after) in one statement; for imports of thousands of rows."""
    now = utcnow()
    rows = [
        {"at": now, "actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
         "before": _dump(before), "after": _dump(after)}
        for entity_id, before, after in changes
    ]
    if rows:
        session.execute(insert(AuditLog.__table__), rows)
    return len(rows)


def audit_page(
    session: Session,
    entity: str = "",
    actor: str = "",
    entity_id: Optional[int] = None,
    since: Optional[dt.date] = None,
    until: Optional[dt.date] = None,
    number: int = 1,
    size: int = 50,
) -> Page:
    """Audit entries, newest first, of one kind of row (and one row), by one person, between two days (inclusive)."""
    statement = select(AuditLog)
    if entity:
        statement = statement.where(AuditLog.entity == entity)
    if actor:
        statement = statement.where(AuditLog.actor == actor.strip())
    if entity_id is not None:
        statement = statement.where(AuditLog.entity_id == entity_id)
    if since is not None:
        statement = statement.where(AuditLog.at >= dt.datetime.combine(since, dt.time()))
    if until is not None:
        statement = statement.where(AuditLog.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
    return fetch_page(session, statement, [AuditLog.at.desc(), AuditLog.id.desc()], number, size)


def audited_entities(session: Session) -> List[str]:
    """The kinds of rows the audit log has entries for, for the filter menu."""
    return list(session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)).all())
