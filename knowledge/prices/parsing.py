"""Reading a price figure as officers and files write it ("1.5", "１.５元", "1,200"); messages in plain Chinese."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, List, Optional

from knowledge.fields import ascii_form, clean_text


def parse_price(value: Any, label: str, errors: List[str]) -> Optional[Decimal]:
    """A non-negative decimal, or None when empty; appends a Chinese reason on bad input."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(value)  # shortest round-trip form: 1.15 stays 1.15
    if isinstance(value, str) and value.isascii() and "," not in value:
        # The common case, a plain number, without the normalisation below (imports parse
        # hundreds of thousands of these).
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and number >= 0:
            return number
    text = ascii_form(clean_text(value).replace("，", ".")).replace(",", "")
    # "1.5元" and "1.5元/斤" in a price cell: the unit belongs to the 单位 column.
    text = re.sub(r"元(/.*)?$", "", text).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors.append(f"{label}“{text}”不是数字")
        return None
    if not number.is_finite():
        errors.append(f"{label}“{text}”不是数字")
        return None
    if number < 0:
        errors.append(f"{label}不能是负数（{text}）")
        return None
    return number
