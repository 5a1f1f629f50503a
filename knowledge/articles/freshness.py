"""Freshness of year-bound articles: a fact of a year (收购价, 缴费标准, 基础养老金, 补贴标准) carries its year, and
an answer given in a later year says so, unless a newer year's article exists (then the search's year
preference, knowledge.articles.years.prefer_asked_year, lets that one answer).

The year is read from the title as officers write it ("2025年稻谷最低收购价", "城乡居民医保一年交多少钱（2024年
通知）"), so no column is needed; an article whose title names no year carries none.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from knowledge.articles.years import asked_year, title_years

# Words of a title that make its fact one of a year: the figure changes every year.
YEAR_BOUND_WORDS = ("收购价", "缴费", "交多少", "养老金", "补贴标准", "补贴", "筹资", "标准")
# Articles that tabulate the years are about the past on purpose.
_HISTORY_WORDS = ("历年", "变化")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def is_year_bound(title: str) -> bool:
    """Whether the article states a fact of one year (by the words of its title)."""
    return any(word in title for word in YEAR_BOUND_WORDS) and not any(word in title for word in _HISTORY_WORDS)


def article_year(title: str) -> Optional[int]:
    """The newest year a year-bound article's title is for, bracketed notes included ("（2024年通知）"); None if
    the article is not year-bound or names no year."""
    if not is_year_bound(title):
        return None
    years = set(title_years(title)) | {int(year) for year in _YEAR.findall(title)}
    return max(years) if years else None


def outdated_year(title: str, today: dt.date, question: str = "") -> Optional[int]:
    """The article's year when it is older than today's year and the question did not ask for that year (or an
    earlier one): then the answer must say a newer figure may exist. None otherwise."""
    year = article_year(title)
    if year is None or year >= today.year:
        return None
    asked = asked_year(question, today) if question else None
    if asked is not None and asked <= year:
        return None
    return year
