"""Resolve the names farmers and officers type into knowledge-base rows (aliases, short place names)."""
from __future__ import annotations

from typing import Iterable, List, Optional, Set

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from knowledge.models import Market, Product, ProductAlias, Region

# Suffixes farmers often leave off or add ("河北" / "河北省", "石家庄" / "石家庄市").
_PLACE_SUFFIXES = ("省", "市", "自治区", "特别行政区", "地区", "自治州", "区", "县", "镇", "乡", "村")


def find_product(session: Session, name: str) -> Optional[Product]:
    """The product whose canonical name or alias is `name`."""
    name = (name or "").strip()
    if not name:
        return None
    product = session.scalars(select(Product).where(Product.name == name)).first()
    if product is None:
        product = session.scalars(
            select(Product).join(ProductAlias).where(ProductAlias.alias == name)
        ).first()
    return product


def _place_forms(name: str) -> List[str]:
    forms = [name]
    for suffix in _PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            forms.append(name[: -len(suffix)])
    return forms


def find_region(session: Session, name: str) -> Optional[Region]:
    """The region called `name`, by full or short name, preferring the widest match (省 before 村)."""
    name = (name or "").strip()
    if not name:
        return None
    forms = _place_forms(name)
    candidates = session.scalars(
        select(Region).where(or_(Region.name.in_(forms), Region.short_name.in_(forms)))
    ).all()
    if not candidates:
        return None
    return min(candidates, key=lambda region: Region.LEVELS.index(region.level))


def find_market(session: Session, name: str) -> Optional[Market]:
    """The market whose name is or starts with `name` ("新发地" → 北京新发地农产品批发市场)."""
    name = (name or "").strip()
    if not name:
        return None
    market = session.scalars(select(Market).where(Market.name == name)).first()
    if market is None:
        market = session.scalars(
            select(Market).where(Market.name.contains(name)).order_by(Market.name)
        ).first()
    return market


def descendant_ids(session: Session, region: Region) -> Set[int]:
    """Ids of `region` and every region below it."""
    found: Set[int] = {region.id}
    frontier: Iterable[int] = [region.id]
    while frontier:
        frontier = session.scalars(select(Region.id).where(Region.parent_id.in_(list(frontier)))).all()
        frontier = [region_id for region_id in frontier if region_id not in found]
        found.update(frontier)
    return found


def ancestors(region: Region) -> List[Region]:
    """`region` and then each wider region up to 全国, nearest first."""
    chain: List[Region] = []
    current: Optional[Region] = region
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain
