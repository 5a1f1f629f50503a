"""Reading the text fields officers and files give for any entry (prices, articles): stripped text and dates.

Messages are plain Chinese, because officers read them.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any, List, Optional


def clean_text(value: Any) -> str:
    """The value as stripped text; empty for None."""
    return "" if value is None else str(value).strip()


def _is_control(character: str) -> bool:
    # Unicode categories C* (control, format, surrogate, private, unassigned) and the line and
    # paragraph separators: none belongs in a name, and each can start a new line in a YAML file.
    return unicodedata.category(character)[0] == "C" or unicodedata.category(character) in ("Zl", "Zp")


def name_problem(text: str, label: str, dictionary_word: bool = False) -> Optional[str]:
    """Why `text` cannot be a one-line name (a title, a topic), in plain Chinese; None when it can.

    A dictionary word (a topic or alias, which becomes a jieba word and an NLU lookup entry) may
    not hold spaces either: jieba's user dictionary is "word frequency tag" per line.
    """
    if any(_is_control(character) for character in text):
        return f"{label}不能换行，也不能含控制字符"
    if dictionary_word and any(character.isspace() for character in text):
        return f"{label}不能含空格"
    return None


def is_dictionary_word(text: str) -> bool:
    """True when `text` can be one jieba word and one NLU lookup entry."""
    return bool(text) and name_problem(text, "", dictionary_word=True) is None


def ascii_form(text: str) -> str:
    """Full-width digits and signs as ASCII, for parsing numbers and dates."""
    # NFKC turns full-width digits and signs (１２.５, －３, ／) into the ASCII forms we parse;
    # only for numbers and dates, since it would also flatten Chinese punctuation in prose.
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=4096)
def _date_from_text(text: str) -> Optional[dt.date]:
    # Remembered: a file repeats the same few dates on every row.
    # Excel's CSV often adds a time ("2025/2/8 0:00"); the date is the first word.
    normalised = text.split()[0].replace("年", "-").replace("月", "-").replace("日", "")
    normalised = normalised.replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", normalised):
        normalised = f"{normalised[:4]}-{normalised[4:6]}-{normalised[6:]}"
    try:
        year, month, day = (int(part) for part in normalised.split("-")[:3])
        return dt.date(year, month, day)
    except (ValueError, TypeError):
        return None


def parse_date(
    value: Any,
    today: dt.date,
    errors: List[str],
    label: str = "发布日期",
    required: bool = True,
    allow_future: bool = False,
) -> Optional[dt.date]:
    """A date (2025-02-08, 2025/2/8, 2025年2月8日, 20250208, or an Excel date); by default required, not future."""
    parsed: Optional[dt.date]
    if isinstance(value, dt.datetime):
        parsed = value.date()
    elif isinstance(value, dt.date):
        parsed = value
    else:
        text = ascii_form(clean_text(value))
        if not text:
            if required:
                errors.append(f"缺少{label}")
            return None
        parsed = _date_from_text(text)
        if parsed is None:
            errors.append(f"{label}“{text}”看不懂，请写成 2025-02-08")
            return None
    if not allow_future and parsed > today:
        errors.append(f"{label} {parsed.isoformat()} 在今天之后")
        return None
    return parsed
