"""The audit trail: who changed what in the knowledge base, with the row before and after."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from sqlalchemy import false, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from knowledge.models import (
    Article,
    AuditLog,
    ConversationReview,
    Farmer,
    HandoffTicket,
    Market,
    MessageCorrection,
    PriceRecord,
    utcnow,
)
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


@dataclass(frozen=True)
class AuditViewer:
    """An officer reading the audit log: who they are and the regions they are responsible for."""

    username: str
    account_id: int
    region_ids: Set[int]


def _readable_by(viewer: AuditViewer) -> ColumnElement:
    """The entries an officer may read. Admins read every entry; reviewers do not read the audit log.

    - every entry of their own actions, whatever the row;
    - price_record: the record's market is in their regions (a deleted record no longer says where:
      only its author and the admins read its deletion);
    - market: the market is in their regions;
    - article: the article belongs to one of their regions (national ones are the county's and the admins');
    - handoff_ticket: the ticket is in their regions (region-less tickets are the admins');
    - farmer: the farmer is now in their regions (the entry names the farmer's village);
    - conversation_review, message_correction: the conversation's farmer is in their regions;
    - account: their own account only (others' entries carry Telegram ids, regions and roles);
    - topic_alias, and any kind of row added later until it gets a rule here: never (aliases apply nationwide).
    """
    regions = sorted(viewer.region_ids)

    def about(entity: str, row_in_region: Select) -> ColumnElement:
        return (AuditLog.entity == entity) & row_in_region.exists()

    in_region = [
        about("price_record", select(PriceRecord.id).join(Market, PriceRecord.market_id == Market.id)
              .where(PriceRecord.id == AuditLog.entity_id, Market.region_id.in_(regions))),
        about("market", select(Market.id).where(Market.id == AuditLog.entity_id, Market.region_id.in_(regions))),
        about("article", select(Article.id).where(Article.id == AuditLog.entity_id, Article.region_id.in_(regions))),
        about("handoff_ticket", select(HandoffTicket.id)
              .where(HandoffTicket.id == AuditLog.entity_id, HandoffTicket.region_id.in_(regions))),
        about("farmer", select(Farmer.id).where(Farmer.id == AuditLog.entity_id, Farmer.region_id.in_(regions))),
        about("conversation_review", select(ConversationReview.id)
              .join(Farmer, Farmer.sender_id == ConversationReview.conversation_id)
              .where(ConversationReview.id == AuditLog.entity_id, Farmer.region_id.in_(regions))),
        about("message_correction", select(MessageCorrection.id)
              .join(Farmer, Farmer.sender_id == MessageCorrection.conversation_id)
              .where(MessageCorrection.id == AuditLog.entity_id, Farmer.region_id.in_(regions))),
    ] if regions else []
    own = [AuditLog.actor == viewer.username,
           (AuditLog.entity == "account") & (AuditLog.entity_id == viewer.account_id)]
    return or_(false(), *own, *in_region)


def audit_page(
    session: Session,
    entity: str = "",
    actor: str = "",
    entity_id: Optional[int] = None,
    since: Optional[dt.date] = None,
    until: Optional[dt.date] = None,
    number: int = 1,
    size: int = 50,
    viewer: Optional[AuditViewer] = None,
) -> Page:
    """Audit entries, newest first, of one kind of row (and one row), by one person, between two days (inclusive).

    With a `viewer` (an officer), only the entries that officer may read (see _readable_by); without, every entry.
    """
    statement = select(AuditLog)
    if viewer is not None:
        statement = statement.where(_readable_by(viewer))
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
