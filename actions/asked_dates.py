"""The day a farmer's date words point at ("上个月呢", "去年的", "2024年3月"), for prices as of then.

The date entity holds the words as written (after the normaliser turned Chinese numerals into
digits); a price "as of" a period means the newest record on or before the period's last day.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Optional

# Words that mean "the newest", which is what a price question without a date gets anyway.
_NOW_WORDS = ("今天", "今儿", "今日", "现在", "目前", "最新", "最近", "这几天", "当前", "今年", "本月", "这个月")

_RELATIVE_DAYS = {"昨天": 1, "昨儿": 1, "昨日": 1, "前天": 2, "前儿": 2, "大前天": 3}
_RELATIVE_WEEKS = {"上周": 1, "上星期": 1, "上个星期": 1, "上个礼拜": 1, "上礼拜": 1}
_RELATIVE_MONTHS = {"上个月": 1, "上月": 1, "前两个月": 2, "上上个月": 2}
_RELATIVE_YEARS = {"去年": 1, "前年": 2}

# A year is written in four digits or, as farmers do, in two ("23年3月", "24年9月份").
_YEAR_MONTH_DAY = re.compile(r"(?:(\d{4}|\d{2})\s*[年./-]\s*)?(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?")
_YEAR_MONTH = re.compile(r"(?:(\d{4}|\d{2})\s*[年./-]\s*)?(\d{1,2})\s*月(?:份)?")
_YEAR = re.compile(r"(?<!\d)(\d{4}|\d{2})\s*年")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _months_back(today: dt.date, months: int) -> dt.date:
    """The last day of the month `months` before today's month."""
    index = today.year * 12 + (today.month - 1) - months
    return _month_end(index // 12, index % 12 + 1)


def _full_year(year: str, today: dt.date) -> int:
    """"23" → 2023 (a two-digit year is this century's, or the last one's if it would be in the future)."""
    value = int(year)
    if len(year) > 2:
        return value
    century = today.year - today.year % 100
    return century + value if century + value <= today.year else century - 100 + value


def _latest_past(year: Optional[str], month: int, today: dt.date) -> int:
    """The year a month written without one refers to: this year, or last year if it has not come yet."""
    if year:
        return _full_year(year, today)
    return today.year if month <= today.month else today.year - 1


def as_of_date(words: Optional[str], today: dt.date) -> Optional[dt.date]:
    """The last day of the period the date words name, or None when they mean "now" or are not understood."""
    text = (words or "").strip()
    if not text or any(word in text for word in _NOW_WORDS):
        return None
    # Longest first: "大前天" is not "前天", "上上个月" is not "上个月".
    for table, to_date in (
        (_RELATIVE_DAYS, lambda n: today - dt.timedelta(days=n)),
        (_RELATIVE_WEEKS, lambda n: today - dt.timedelta(days=7 * n)),
        (_RELATIVE_MONTHS, lambda n: _months_back(today, n)),
        (_RELATIVE_YEARS, lambda n: dt.date(today.year - n, 12, 31)),
    ):
        for word in sorted(table, key=len, reverse=True):
            if word in text:
                return to_date(table[word])
    try:
        found = _YEAR_MONTH_DAY.search(text)
        if found:
            month, day = int(found.group(2)), int(found.group(3))
            return dt.date(_latest_past(found.group(1), month, today), month, day)
        found = _YEAR_MONTH.search(text)
        if found:
            month = int(found.group(2))
            return _month_end(_latest_past(found.group(1), month, today), month)
    except ValueError:  # "2月30日", "13月": not a day; answer with the newest price instead
        return None
    found = _YEAR.search(text)
    if found and _full_year(found.group(1), today) < today.year:
        return dt.date(_full_year(found.group(1), today), 12, 31)
    return None
