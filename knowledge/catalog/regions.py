"""Regions by id, as the console scopes and lists them: one region, a region and everything below it, the tree."""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import descendant_ids
from knowledge.models import Account, Farmer, HandoffTicket, Market, Region


def region_by_id(session: Session, region_id: int) -> Optional[Region]:
    """The region with this id, if any."""
    return session.get(Region, region_id)


def region_ids_below(session: Session, region_id: int) -> Set[int]:
    """Ids of the region and every region below it; empty when there is no such region."""
    region = session.get(Region, region_id)
    return descendant_ids(session, region) if region is not None else set()


def region_tree(session: Session, in_use_only: bool = False) -> List[Tuple[Region, int]]:
    """Every region with its depth, in tree order (each region before its children, siblings by name).

    `in_use_only`: the provinces, and the regions below them that have a market, an account, a farmer or a
    ticket, with the regions above those: a filter's choices, not all 3,000 counties of China.
    """
    regions = list(session.scalars(select(Region).order_by(Region.name)))
    if in_use_only:
        regions = _in_use(session, regions)
    children: Dict[Optional[int], List[Region]] = {}
    for region in regions:
        children.setdefault(region.parent_id, []).append(region)
    tree: List[Tuple[Region, int]] = []

    def walk(parent_id: Optional[int], depth: int) -> None:
        for region in children.get(parent_id, []):
            tree.append((region, depth))
            walk(region.id, depth + 1)

    walk(None, 0)
    return tree


def _in_use(session: Session, regions: List[Region]) -> List[Region]:
    by_id = {region.id: region for region in regions}
    used: Set[int] = set()
    for column in (Market.region_id, Account.region_id, Farmer.region_id, HandoffTicket.region_id):
        used.update(region_id for region_id in session.scalars(select(column).distinct()) if region_id is not None)
    keep: Set[int] = {region.id for region in regions if region.level in ("country", "province")}
    for region_id in used:
        current: Optional[Region] = by_id.get(region_id)
        while current is not None and current.id not in keep:
            keep.add(current.id)
            current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return [region for region in regions if region.id in keep]
