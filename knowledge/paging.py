"""One page of a long list (prices, articles, the audit log) and how many rows the whole list has."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, List, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """The rows of page `number` (from 1) of `size` rows, and the whole list's row count."""

    rows: List[Row]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages the whole list fills (at least one, so an empty list still has a page)."""
        return max(1, -(-self.total // self.size))


def fetch_page(session: Session, statement: Select, ordering: List[Any], number: int, size: int) -> Page:
    """Count what `statement` selects, then load page `number` of it in `ordering`."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.order_by(*ordering).limit(size).offset((number - 1) * size)).unique().all()
    return Page(list(rows), total, number, size)
