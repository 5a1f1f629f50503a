"""Small helpers the forms share."""
from __future__ import annotations

from typing import List, Tuple

from knowledge.catalog.regions import region_tree
from knowledge.db import Session


def region_choices(db: Session) -> List[Tuple[int, str]]:
    """The regions a filter can narrow to (provinces, and those with markets, accounts, farmers or tickets, with the
    regions above them) as (id, name indented by depth), in tree order, for a select box."""
    return [(region.id, "　" * depth + region.name) for region, depth in region_tree(db, in_use_only=True)]


def checkbox(form, name: str) -> bool:
    """True when a checkbox named `name` was ticked."""
    return str(form.get(name, "")).lower() in ("1", "on", "true", "yes")
