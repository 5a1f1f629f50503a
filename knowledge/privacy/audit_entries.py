"""Taking personal data out of audit entries written before it had to go: the fields of anonymised rows, and the
sender id a farmer acted under. The entries themselves stay (who changed what, when); only the values go."""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows
from knowledge.models import AuditLog

_CHUNK = 500


def _rewritten(dumped: Optional[str], values: Dict[str, Any]) -> Optional[str]:
    if not dumped:
        return dumped
    try:
        row = json.loads(dumped)
    except ValueError:
        return dumped
    if not isinstance(row, dict):
        return dumped
    for field, value in values.items():
        if row.get(field) is not None:
            row[field] = value
    return json.dumps(row, ensure_ascii=False, sort_keys=True)


def rewrite_audited_fields(session: Session, entity: str, entity_ids: Iterable[int], values: Dict[str, Any]) -> int:
    """Set the named fields (where they had a value) in the before/after of the audit entries of these rows.

    Returns how many entries changed; the caller commits.
    """
    ids = sorted(set(entity_ids))
    changed = 0
    for start in range(0, len(ids), _CHUNK):
        entries = session.scalars(
            select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_id.in_(ids[start:start + _CHUNK]))
        )
        for entry in entries:
            before, after = _rewritten(entry.before, values), _rewritten(entry.after, values)
            if (before, after) != (entry.before, entry.after):
                entry.before, entry.after = before, after
                changed += 1
    return changed


def rename_actor(session: Session, actor: str, new_actor: str) -> int:
    """Credit the audit entries made under `actor` (a farmer's sender id) to `new_actor`; returns how many."""
    return count_changed_rows(session,
        update(AuditLog).where(AuditLog.actor == actor[:64]).values(actor=new_actor[:64])
        .execution_options(synchronize_session=False)
    )
