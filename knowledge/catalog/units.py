"""Price units: parse what sources and officers write, and convert between them (1 公斤 = 2 斤)."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Dict, Optional

# Kilograms in one of each weight unit. A price per unit U is the price per kg times KG_PER[U].
KG_PER: Dict[str, Decimal] = {
    "斤": Decimal("0.5"),
    "市斤": Decimal("0.5"),
    "公斤": Decimal("1"),
    "千克": Decimal("1"),
    "kg": Decimal("1"),
    "50公斤": Decimal("50"),
    "百斤": Decimal("50"),
    "吨": Decimal("1000"),
}

DEFAULT_ASKED_UNIT = "元/斤"  # farmers usually ask "多少钱一斤"


class UnknownUnitError(ValueError):
    """A unit we cannot convert; the message is plain Chinese for officers."""


# Imports normalise the same few spellings hundreds of thousands of times.
@lru_cache(maxsize=512)
def normalise_unit(unit: str) -> str:
    """Canonical spelling of a price unit: '元/斤', '元/公斤', '元/50公斤' …"""
    text = (unit or "").strip().replace(" ", "").replace("／", "/").replace("每", "/")
    text = text.replace("KG", "kg").replace("Kg", "kg").replace("千克", "公斤").replace("kg", "公斤")
    if not text.startswith("元"):
        text = "元/" + text.lstrip("/")
    if text in ("元/", "元"):
        raise UnknownUnitError("单位不能为空，请写成“元/斤”或“元/公斤”")
    weight = text.split("/", 1)[1]
    if weight not in KG_PER:
        raise UnknownUnitError(f"不认识的单位“{unit}”，请用 元/斤、元/公斤、元/50公斤 或 元/吨")
    return text


def convert_price(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert a price between weight units, e.g. 2.30 元/公斤 → 1.15 元/斤."""
    source = normalise_unit(from_unit).split("/", 1)[1]
    target = normalise_unit(to_unit).split("/", 1)[1]
    return Decimal(value) / KG_PER[source] * KG_PER[target]


def format_price(value: Decimal) -> str:
    """Two decimals, as markets publish them (0.58, 11.44)."""
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


# How farmers name the unit they want a price in ("多少钱一公斤", "一吨多少", "每斤"); longest first,
# so "公斤" is not read as "斤".
_ASKED_UNIT_WORDS = (("公斤", "元/公斤"), ("千克", "元/公斤"), ("kg", "元/公斤"), ("吨", "元/吨"), ("斤", "元/斤"))


def unit_named_in(text: str) -> Optional[str]:
    """The price unit a farmer's words name ("一公斤呢" → 元/公斤), or None when they name none."""
    lowered = (text or "").lower()
    return next((unit for word, unit in _ASKED_UNIT_WORDS if word in lowered), None)


def unit_asked_in(text: str) -> str:
    """The price unit a farmer's question asks for ("玉米一公斤多少钱" → 元/公斤); 元/斤 when none is named."""
    return unit_named_in(text) or DEFAULT_ASKED_UNIT
