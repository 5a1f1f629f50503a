"""The catalog of names a farmer's question is resolved against, kept in memory.

Every price question and article search turns the words a farmer typed (苞谷, 藁城, 新发地) into
a product, a region with its wider regions, and the markets inside them. Asking the database for
each of these costs a round trip apiece, several per question; on PostgreSQL those round trips
were most of a price answer's time. The catalog (products, aliases, regions, markets: a few
thousand small rows that officers rarely change) is therefore loaded once per process and reused
for as long as the database's catalog token (CatalogVersion, changed by triggers on every write
to those tables) stays the same. Checking the token is one primary-key read, in the caller's own
transaction, so a question never sees an older catalog than its own session does.

Write paths (imports, the console, the seed) keep using knowledge.catalog.lookup, which returns ORM rows
they can attach to; this module returns plain, read-only entries.
"""
from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import place_forms
from knowledge.models import CatalogVersion, Market, Product, ProductAlias, Region, RegionAlias


@dataclass(frozen=True)
class ProductEntry:
    """A product as the catalog knows it: enough to query and convert its prices."""

    id: int
    name: str
    category: str
    unit: str


@dataclass(frozen=True)
class RegionEntry:
    """A region of the hierarchy 全国 > province > … > village."""

    id: int
    name: str
    short_name: Optional[str]
    level: str
    parent_id: Optional[int]
    # The national division code and the seat's coordinates, for regions of the packaged data set.
    code: Optional[str] = None
    latitude: Optional[float] = None
    longitude: Optional[float] = None


@dataclass(frozen=True)
class MarketEntry:
    """A market, the region it is in, and what its figure stands for (Market.scope)."""

    id: int
    name: str
    kind: str
    region_id: int
    scope: str = "local"


class Catalog:
    """One consistent snapshot of products, aliases, regions and markets, with the lookups questions need.

    The lookups answer exactly as knowledge.catalog.lookup's queries do (exact product name before alias;
    the widest region of that name; the exact market name, else the first by name containing it).
    """

    def __init__(
        self,
        token: Optional[int],
        products: List[ProductEntry],
        aliases: List[Tuple[str, int]],
        regions: List[RegionEntry],
        markets: List[MarketEntry],
        region_aliases: Sequence[Tuple[str, int]] = (),
    ) -> None:
        self.token = token
        by_id = {product.id: product for product in products}
        self._products = {product.name: product for product in products}
        self._aliases = {alias: by_id[product_id] for alias, product_id in aliases if product_id in by_id}
        self._alias_names = tuple(sorted((alias, product.name) for alias, product in self._aliases.items()
                                         if alias != product.name))
        self._regions = {region.id: region for region in regions}
        # Each full name, short name and alias → every region so called, widest (省 before 村) and oldest first.
        self._regions_by_form: Dict[str, List[RegionEntry]] = {}
        forms_of: Dict[int, List[str]] = {}
        for alias, region_id in region_aliases:
            forms_of.setdefault(region_id, []).append(alias)
        for region in sorted(regions, key=_region_order):
            forms = {region.name, region.short_name, *forms_of.get(region.id, ())}
            if region.short_name is None and region.level in ("township", "village"):
                # Officers' townships and villages: the name without 镇/乡/村 too (岗上镇 → 岗上).
                forms.update(place_forms(region.name)[1:])
            for form in forms:
                if form:
                    self._regions_by_form.setdefault(form, []).append(region)
        # Built on the first name that is not a region's own (most questions never need it).
        self._region_by_label: Optional[Dict[str, RegionEntry]] = None
        self._markets = sorted(markets, key=lambda market: market.name)
        self._markets_by_name = {market.name: market for market in markets}
        self._markets_by_id = {market.id: market for market in markets}
        self._children: Dict[int, List[int]] = {}
        for region in regions:
            if region.parent_id is not None:
                self._children.setdefault(region.parent_id, []).append(region.id)
        self._markets_in_region: Dict[int, List[int]] = {}
        for market in markets:
            self._markets_in_region.setdefault(market.region_id, []).append(market.id)
        # Filled on first use per region; a snapshot never changes, so neither does the answer.
        self._market_ids_below: Dict[int, List[int]] = {}

    def product_aliases(self) -> Tuple[Tuple[str, str], ...]:
        """Every (product alias, canonical name it stands for) pair, sorted (麦子 → 小麦)."""
        return self._alias_names

    def product(self, name: str) -> Optional[ProductEntry]:
        """The product whose canonical name or alias is `name`."""
        name = (name or "").strip()
        return self._products.get(name) or self._aliases.get(name)

    def product_names(self) -> Dict[str, str]:
        """Every product name and alias → the product's canonical name."""
        names = {alias: product.name for alias, product in self._aliases.items()}
        names.update((name, name) for name in self._products)
        return names

    def region(self, name: str) -> Optional[RegionEntry]:
        """The region called `name`: the only one, or the first of regions_named (the widest, then the oldest)."""
        found = self.regions_named(name)
        return found[0] if found else None

    def regions_named(self, name: str) -> List[RegionEntry]:
        """Every region `name` may mean, by full name, short name, alias or label ("吉林省长春市朝阳区").

        One region when the name is clear: a label; a province over anything else so called (海南, 吉林);
        the widest of places that contain one another (大理 → 大理白族自治州, not its 大理市). Several when
        the farmer must be asked which (朝阳: 朝阳市, 北京市朝阳区, 长春市朝阳区, 朝阳县), widest first.
        A full name typed exactly (大理市) is preferred to a form with its suffix taken off.
        """
        name = (name or "").strip()
        if not name:
            return []
        found = list(self._regions_by_form.get(name, ()))
        if not found:
            labelled = self._labels().get(name)
            if labelled is not None:
                return [labelled]
            seen = set()
            for form in place_forms(name)[1:]:
                for region in self._regions_by_form.get(form, ()):
                    if region.id not in seen:
                        seen.add(region.id)
                        found.append(region)
        if len(found) <= 1:
            return found
        found.sort(key=_region_order)
        provinces = [region for region in found if region.level in ("country", "province")]
        if provinces:
            return provinces[:1]
        widest = found[0]
        if all(widest.id in {scope.id for scope in self.region_chain(region)} for region in found):
            return [widest]
        return found

    def _labels(self) -> Dict[str, RegionEntry]:
        if self._region_by_label is None:
            labels: Dict[str, RegionEntry] = {}
            for region in sorted(self._regions.values(), key=_region_order):
                labels.setdefault(self.label(region), region)
            self._region_by_label = labels
        return self._region_by_label

    def label(self, region: RegionEntry) -> str:
        """The region's full names from its province down ("河北省石家庄市藁城区"): unique where names are not."""
        chain = [scope.name for scope in self.region_chain(region) if scope.parent_id is not None]
        return "".join(reversed(chain)) or region.name

    def regions_below(self, region_id: Optional[int]) -> List[RegionEntry]:
        """The regions directly below this one (None: the provinces), by division code then name."""
        if region_id is None:
            roots = [r for r in self._regions.values() if r.parent_id is None]
            region_id = roots[0].id if len(roots) == 1 else None
            if region_id is None:
                return sorted(roots, key=lambda r: (r.code or "~", r.name))
        children = [self._regions[child] for child in self._children.get(region_id, ())]
        return sorted(children, key=lambda r: (r.code or "~", r.name))

    def nearest_county(self, latitude: float, longitude: float) -> Optional[RegionEntry]:
        """The county (县级) whose seat is nearest the point: a shared location placed without any network."""
        best: Optional[RegionEntry] = None
        best_distance = float("inf")
        for region in self._regions.values():
            if region.level != "county" or region.latitude is None or region.longitude is None:
                continue
            distance = distance_km((latitude, longitude), (region.latitude, region.longitude))
            if distance < best_distance:
                best, best_distance = region, distance
        return best

    def region_with_id(self, region_id: int) -> Optional[RegionEntry]:
        """The region with this id, if it exists."""
        return self._regions.get(region_id)

    def market(self, name: str) -> Optional[MarketEntry]:
        """The market whose name is or contains `name` ("新发地" → 北京新发地农产品批发市场)."""
        name = (name or "").strip()
        if not name:
            return None
        exact = self._markets_by_name.get(name)
        if exact is not None:
            return exact
        return next((market for market in self._markets if name in market.name), None)

    def market_with_id(self, market_id: int) -> Optional[MarketEntry]:
        """The market with this id, if it exists."""
        return self._markets_by_id.get(market_id)

    def national_market_ids(self) -> List[int]:
        """Ids of the markets whose figures are national (scope "national"), sorted."""
        return sorted(market.id for market in self._markets if market.scope == "national")

    def province_of(self, region_id: int) -> Optional[RegionEntry]:
        """The province a region lies in (itself if it is one); None for 全国 or a region outside any."""
        region = self._regions.get(region_id)
        if region is None:
            return None
        return next((entry for entry in self.region_chain(region) if entry.level == "province"), None)

    def region_chain(self, region: RegionEntry) -> List[RegionEntry]:
        """`region` and each wider region up to 全国, nearest first."""
        chain: List[RegionEntry] = []
        current: Optional[RegionEntry] = region
        while current is not None and len(chain) <= len(self._regions):
            chain.append(current)
            current = self._regions.get(current.parent_id) if current.parent_id is not None else None
        return chain

    def market_ids_in(self, region: RegionEntry) -> List[int]:
        """Ids of the markets in `region` and every region below it."""
        cached = self._market_ids_below.get(region.id)
        if cached is not None:
            return cached
        ids: List[int] = []
        frontier, seen = [region.id], {region.id}
        while frontier:
            region_id = frontier.pop()
            ids.extend(self._markets_in_region.get(region_id, ()))
            for child in self._children.get(region_id, ()):
                if child not in seen:
                    seen.add(child)
                    frontier.append(child)
        ids.sort()
        self._market_ids_below[region.id] = ids
        return ids


def _level_rank(level: str) -> int:
    return Region.LEVELS.index(level) if level in Region.LEVELS else len(Region.LEVELS)


def _region_order(region: RegionEntry) -> Tuple[int, int]:
    return _level_rank(region.level), region.id


def distance_km(a: Tuple[float, float], b: Tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in kilometres."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def _load(session: Session, token: Optional[int]) -> Catalog:
    products = [ProductEntry(*row) for row in session.execute(
        select(Product.id, Product.name, Product.category, Product.unit))]
    aliases = [(alias, product_id) for alias, product_id in session.execute(
        select(ProductAlias.alias, ProductAlias.product_id))]
    regions = [RegionEntry(*row) for row in session.execute(
        select(Region.id, Region.name, Region.short_name, Region.level, Region.parent_id, Region.code,
               Region.latitude, Region.longitude))]
    region_aliases = [(alias, region_id) for alias, region_id in session.execute(
        select(RegionAlias.alias, RegionAlias.region_id))]
    markets = [MarketEntry(*row) for row in session.execute(
        select(Market.id, Market.name, Market.kind, Market.region_id, Market.scope))]
    return Catalog(token, products, aliases, regions, markets, region_aliases)


# One snapshot per engine (tests and benchmarks open several databases in one process); an engine
# that is thrown away takes its snapshot with it.
_snapshots: "weakref.WeakKeyDictionary[object, Catalog]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_TOKEN = select(CatalogVersion.token).where(CatalogVersion.id == 1)


def catalog(session: Session) -> Catalog:
    """The current catalog for this session's database: the kept snapshot, or a fresh one when the token moved.

    Reading the token autoflushes the session, so products or markets it added but has not
    committed are in the snapshot it gets (and the token it sees moves again if they roll back).
    """
    token = session.scalar(_TOKEN)
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    snapshot = _snapshots.get(engine)
    if token is not None and snapshot is not None and snapshot.token == token:
        return snapshot
    snapshot = _load(session, token)
    if token is not None:
        with _lock:
            _snapshots[engine] = snapshot
    return snapshot
