"""Who may change what: officers act on their own region and everything below it; admins on everything."""
from __future__ import annotations

from typing import Optional, Set

from console.security import CurrentUser, Forbidden
from knowledge.catalog.regions import region_by_id, region_ids_below
from knowledge.db import Session
from knowledge.models import Role


def region_scope(session: Session, user: CurrentUser) -> Optional[Set[int]]:
    """Ids of the regions the user may act on; None means every region (admins)."""
    if user.role == Role.ADMIN:
        return None
    if user.role != Role.OFFICER or user.region_id is None:
        return set()
    return region_ids_below(session, user.region_id)


def may_edit_region(session: Session, user: CurrentUser, region_id: Optional[int]) -> bool:
    """True when the user may edit knowledge that belongs to `region_id` (None: national knowledge)."""
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.OFFICER:
        return False
    if region_id is None:
        return False  # national knowledge is the county's and the admins' to change
    scope = region_scope(session, user)
    return scope is None or region_id in scope


def check_edit_region(session: Session, user: CurrentUser, region_id: Optional[int], what: str) -> None:
    """Raise a 403 unless the user may edit `what` in `region_id`."""
    if not may_edit_region(session, user, region_id):
        region = region_by_id(session, region_id) if region_id is not None else None
        where = region.name if region is not None else "全国"
        mine = user.region_name or "（未指定地区）"
        raise Forbidden(f"{what}属于“{where}”，不在您负责的“{mine}”范围内，不能修改。")
