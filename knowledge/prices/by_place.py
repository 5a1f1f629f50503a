"""Price questions that name a place: which place it is (or which ones, to ask), and the answer for it or for
the nearest wider region with data, saying which places had none ("巩义、郑州和河南暂时没有…，下面是全国的数据").

The price itself comes from latest_price, asked for the one region by its label ("河南省郑州市巩义市"), so
every rule of that query (record choice, national figures, as-of dates) applies unchanged here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import List, Optional

from sqlalchemy.orm import Session

from knowledge.catalog.snapshot import Catalog, RegionEntry, catalog
from knowledge.catalog.units import DEFAULT_ASKED_UNIT
from knowledge.prices.queries import LatestPrice, latest_price


@dataclass(frozen=True)
class PlaceChoice:
    """One of the places a shared name may mean: its label, unique ("吉林省长春市朝阳区"), and its own name."""

    label: str
    name: str


def places_named(session: Session, words: str) -> List[PlaceChoice]:
    """The places `words` may mean: one when it is clear, several when the farmer must be asked which
    (朝阳, 鼓楼, 鹤山), none when it names no region."""
    names = catalog(session)
    return [PlaceChoice(names.label(region), region.name) for region in names.regions_named(words)]


def spoken_name(region: RegionEntry) -> str:
    """How the farmer hears a region named in a list of places (河南, 郑州; 北京市朝阳区 stays 朝阳区)."""
    return region.short_name or region.name


def joined_places(words: List[str]) -> str:
    """"巩义", "巩义和河南", "巩义、郑州和河南"."""
    if len(words) <= 1:
        return "".join(words)
    return "、".join(words[:-1]) + "和" + words[-1]


def price_in_place(
    session: Session,
    product_name: str,
    place_words: Optional[str],
    unit: str = DEFAULT_ASKED_UNIT,
    today: Optional[dt.date] = None,
    as_of: Optional[dt.date] = None,
) -> Optional[LatestPrice]:
    """The newest price for the place the farmer named, else for the nearest wider region with data, else national.

    As latest_price, and: the place may be any county of China by any of its names; when the answer comes
    from a wider region, `requested_region` of the result names every place asked about that had no data
    (the farmer's own words first: "巩义和河南"), and `answered_region` the region that answers (None: national).
    A name several places share is answered for the first of places_named: ask the farmer before.
    """
    if not place_words:
        return latest_price(session, product_name, None, unit=unit, today=today, as_of=as_of)
    names = catalog(session)
    found = names.regions_named(place_words)
    if not found:
        # Not a region: a market name, or a place we do not know (answered nationally, saying so).
        return latest_price(session, product_name, place_words, unit=unit, today=today, as_of=as_of)
    region = found[0]
    label = names.label(region)
    answer = latest_price(session, product_name, label, unit=unit, today=today, as_of=as_of)
    if answer is None:
        return None
    return _named_for_the_farmer(names, region, label, place_words, answer)


def _named_for_the_farmer(
    names: Catalog, region: RegionEntry, label: str, words: str, answer: LatestPrice
) -> LatestPrice:
    if answer.answered_region == label:
        return replace(answer, requested_region=words, answered_region=words)
    without: List[str] = []
    answered = answer.answered_region
    for scope in names.region_chain(region):
        if scope.parent_id is None:
            break  # 全国
        if scope.id != region.id and answered == scope.name:
            break
        without.append(words if scope.id == region.id else spoken_name(scope))
    return replace(answer, requested_region=joined_places(without))
