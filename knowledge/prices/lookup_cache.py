"""Name lookups remembered for one batch of price entries (an import of many rows asks for the same names)."""
from __future__ import annotations

from typing import Dict, Optional, Set

from sqlalchemy.orm import Session

from knowledge.catalog.lookup import descendant_ids, find_market, find_product, find_region
from knowledge.models import Market, Product, Region


class LookupCache:
    """Remembers name lookups during one batch (an import of many rows asks for the same names)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._products: Dict[str, Optional[Product]] = {}
        self._markets: Dict[str, Optional[Market]] = {}
        self._regions: Dict[str, Optional[Region]] = {}
        self._descendants: Dict[int, Set[int]] = {}
        # Markets the batch names for the first time: one new Market per name, saved with the prices.
        self.new_markets: Dict[str, Market] = {}

    def product(self, name: str) -> Optional[Product]:
        """find_product, remembered."""
        if name not in self._products:
            self._products[name] = find_product(self.session, name)
        return self._products[name]

    def market(self, name: str) -> Optional[Market]:
        """find_market, remembered."""
        if name not in self._markets:
            self._markets[name] = find_market(self.session, name)
        return self._markets[name]

    def region(self, name: str) -> Optional[Region]:
        """find_region, remembered."""
        if name not in self._regions:
            self._regions[name] = find_region(self.session, name)
        return self._regions[name]

    def within(self, inner: Region, outer: Region) -> bool:
        """True when `inner` is `outer` or lies below it."""
        if outer.id not in self._descendants:
            self._descendants[outer.id] = descendant_ids(self.session, outer)
        return inner.id in self._descendants[outer.id]
