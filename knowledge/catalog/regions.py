"""Regions by id, as the console scopes and lists them: one region, a region and everything below it, the tree."""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import descendant_ids
from knowledge.models import Region


def region_by_id(session: Session, region_id: int) -> Optional[Region]:
    """The region with this id, if any."""
    return session.get(Region, region_id)


def region_ids_below(session: Session, region_id: int) -> Set[int]:
    """Ids of the region and every region below it; empty when there is no such region."""
    region = session.get(Region, region_id)
    return descendant_ids(session, region) if region is not None else set()


def region_tree(session: Session) -> List[Tuple[Region, int]]:
    """Every region with its depth, in tree order (each region before its children, siblings by name)."""
    regions = list(session.scalars(select(Region).order_by(Region.name)))
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
