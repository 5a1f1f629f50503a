"""Small helpers the forms share."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Region


def region_choices(db: Session) -> List[Tuple[int, str]]:
    """Every region as (id, name indented by depth), in tree order, for a select box."""
    regions = list(db.scalars(select(Region).order_by(Region.name)))
    children: Dict[Optional[int], List[Region]] = {}
    for region in regions:
        children.setdefault(region.parent_id, []).append(region)
    choices: List[Tuple[int, str]] = []

    def walk(parent_id: Optional[int], depth: int) -> None:
        for region in children.get(parent_id, []):
            choices.append((region.id, "　" * depth + region.name))
            walk(region.id, depth + 1)

    walk(None, 0)
    return choices


def checkbox(form, name: str) -> bool:
    """True when a checkbox named `name` was ticked."""
    return str(form.get(name, "")).lower() in ("1", "on", "true", "yes")
