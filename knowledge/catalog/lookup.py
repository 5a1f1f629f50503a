"""Resolve the names farmers and officers type into knowledge-base rows (aliases, short place names)."""
from __future__ import annotations

from typing import Iterable, List, Optional, Set

from sqlalchemy import String, bindparam, case, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from knowledge.models import Market, Product, ProductAlias, Region

# Suffixes farmers often leave off or add ("河北" / "河北省", "石家庄" / "石家庄市").
_PLACE_SUFFIXES = ("省", "市", "自治区", "特别行政区", "地区", "自治州", "区", "县", "镇", "乡", "村")


def find_product(session: Session, name: str) -> Optional[Product]:
    """The product whose canonical name or alias is `name`."""
    name = (name or "").strip()
    if not name:
        return None
    return session.scalars(_PRODUCT_BY_NAME_OR_ALIAS, {"name": name}).first()


def place_forms(name: str) -> List[str]:
    """`name` and its forms without a place suffix ("石家庄市" → 石家庄市, 石家庄)."""
    forms = [name]
    for suffix in _PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            forms.append(name[: -len(suffix)])
    return forms


def find_region(session: Session, name: str) -> Optional[Region]:
    """The region called `name`, by full or short name, alias or label, preferring the widest match (省 before 村).

    Resolved by the catalog snapshot (knowledge.catalog.snapshot.Catalog.regions_named), so questions and
    write paths agree; a name several places share gives the first of them: use regions_named to ask which.
    """
    from knowledge.catalog.snapshot import catalog  # the snapshot imports this module

    entry = catalog(session).region(name)
    return session.get(Region, entry.id) if entry is not None else None


def find_market(session: Session, name: str) -> Optional[Market]:
    """The market whose name is or contains `name` ("新发地" → 北京新发地农产品批发市场)."""
    name = (name or "").strip()
    if not name:
        return None
    pattern = "%" + name.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    return session.scalars(_MARKET_BY_NAME, {"name": name, "pattern": pattern}).first()


def descendant_ids(session: Session, region: Region) -> Set[int]:
    """Ids of `region` and every region below it."""
    found: Set[int] = {region.id}
    frontier: Iterable[int] = [region.id]
    while frontier:
        frontier = session.scalars(select(Region.id).where(Region.parent_id.in_(list(frontier)))).all()
        frontier = [region_id for region_id in frontier if region_id not in found]
        found.update(frontier)
    return found


def _product_by_name_or_alias_statement():
    name: BindParameter[String] = bindparam("name")
    # One round trip for both the name and the alias; both sides use their unique index.
    matching_ids = select(Product.id).where(Product.name == name).union_all(
        select(ProductAlias.product_id).where(ProductAlias.alias == name)
    )
    return (
        select(Product)
        .where(Product.id.in_(matching_ids))
        .order_by(case((Product.name == name, 0), else_=1))
        .limit(1)
    )


def _market_by_name_statement():
    name: BindParameter[String] = bindparam("name")
    # The exact name first, else the alphabetically first partial match, in one round trip.
    return (
        select(Market)
        .where(or_(Market.name == name, Market.name.like(bindparam("pattern"), escape="/")))
        .order_by(case((Market.name == name, 0), else_=1), Market.name)
        .limit(1)
    )


# Built once: these run on every farmer's question, and building a statement costs more Python
# time than the query takes in the database.
_PRODUCT_BY_NAME_OR_ALIAS = _product_by_name_or_alias_statement()
_MARKET_BY_NAME = _market_by_name_statement()


def region_chain(region: Region) -> List[Region]:
    """`region` and then each wider region up to 全国, nearest first."""
    chain: List[Region] = []
    current: Optional[Region] = region
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain
