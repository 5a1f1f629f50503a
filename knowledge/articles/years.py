"""Year-bound facts: which years an article is for, which year a question asks about, and which of
several yearly articles of the same fact answers it.

A fact of a year (收购价, 基础养老金) gets a new article each time it changes, so the knowledge base
holds "2024年小麦最低收购价" next to "2025年和2026年小麦最低收购价". Search finds both with nearly
the same relevance; the question decides: a year it names ("24年", "二零二四年", "去年") picks that
year's article, and a question that names none ("现在", "今年", nothing) wants the newest one that
already applies. The year sits in the title, so no column or migration is needed.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Dict, FrozenSet, List, Optional, Protocol, Sequence, Tuple, TypeVar

# "2024年", "2025年和2026年", "2024—2026年": one year, a list or a span.
_YEAR = r"(?:19|20)\d{2}"
_YEARS = re.compile(rf"{_YEAR}(?:\s*年)?(?:\s*[—–~至到和、-]\s*{_YEAR}(?:\s*年)?)*")
_SPAN = re.compile(rf"({_YEAR})\s*年?\s*[—–~至到-]\s*({_YEAR})")
_NOTE = re.compile(r"[（(][^）)]*[）)]")
# Chinese digits written one by one, as in a year: 二零二四, 二四.
_DIGIT_CHARS = {"零": "0", "〇": "0", "○": "0", "一": "1", "二": "2", "三": "3", "四": "4",
                "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_SPELT_YEAR = re.compile(f"[{''.join(_DIGIT_CHARS)}]{{2,4}}(?=年)")
_FULL_YEAR = re.compile(rf"(?<!\d)({_YEAR})(?:年|的|(?=\s|$))")
# "24年" is a year; "交15年", "满十五年", "再延长30年" are durations: the word before tells them apart.
_SHORT_YEAR = re.compile(r"(?<!\d)(\d{2})年(?!以上|以下|左右|多|后|以后|以内|内)")
_DURATION_BEFORE = ("交", "缴", "满", "够", "了", "续", "延", "长", "再", "干", "过", "近", "这", "前",
                    "后", "多", "第", "几", "差", "补", "共", "连", "上", "有", "需", "要", "到")
_RELATIVE = (("大前年", -3), ("前年", -2), ("去年", -1), ("上一年", -1), ("今年", 0), ("当年", 0),
             ("本年", 0), ("明年", 1), ("下一年", 1))



class _Dated(Protocol):
    title: str
    topic: str
    answer: str


Hit = TypeVar("Hit", bound=_Dated)


def title_years(title: str) -> FrozenSet[int]:
    """The years an article's title is for ("2024—2026年…" → 2024, 2025, 2026); bracketed notes do not count."""
    years: set = set()
    for run in _YEARS.findall(_NOTE.sub("", title)):
        found = [int(year) for year in re.findall(_YEAR, run)]
        years.update(found)
        for start, end in _SPAN.findall(run):
            years.update(range(int(start), int(end) + 1))
    return frozenset(years)


def fact_of(title: str) -> str:
    """A title without its years and bracketed notes: the same for every year's article of one fact."""
    return re.sub(r"\s+", "", _YEARS.sub("", _NOTE.sub("", title)))


def asked_year(question: str, today: dt.date) -> Optional[int]:
    """The year a question asks about ("24年", "二零二四年", "2024的", "去年"); None when it names none (now)."""
    text = _SPELT_YEAR.sub(lambda match: "".join(_DIGIT_CHARS[char] for char in match.group(0)), question)
    for match in _FULL_YEAR.finditer(text):
        value = int(match.group(1))
        # "2000的档" is an amount; a bare or "…的" year must be a recent one.
        if 1990 <= value <= today.year + 5 and (match.group(0).endswith("年") or value > 2000):
            return value
    for match in _SHORT_YEAR.finditer(text):
        before = text[: match.start()].rstrip()
        value = int(match.group(1))
        if before.endswith(_DURATION_BEFORE) or not 10 <= value <= today.year % 100 + 1:
            continue
        return today.year - today.year % 100 + value
    for word, offset in _RELATIVE:
        if word in text:
            return today.year + offset
    return None


def _preferred(siblings: Sequence[Tuple[int, FrozenSet[int]]], year: Optional[int], today: dt.date) -> Optional[int]:
    """Index of the sibling that answers for `year` (None: now), or None to keep the search's order."""
    if year is not None:
        covering = [index for index, years in siblings if year in years]
        return covering[0] if covering else None
    applying = [(max(y for y in years if y <= today.year), index) for index, years in siblings
                if any(y <= today.year for y in years)]
    if applying:
        return max(applying, key=lambda pair: (pair[0], -pair[1]))[1]
    return min(siblings, key=lambda pair: min(pair[1]))[0]


def prefer_asked_year(hits: Sequence[Hit], question: str, today: dt.date) -> List[Hit]:
    """The hits reordered so that, among the yearly articles of one fact, the one for the asked year comes first.

    Only articles of the same topic and fact trade places (each group keeps the positions it
    held), so a year in the question never lifts an article of another fact. When the question
    names a year no yearly article covers, an article of that topic without a year in its title
    whose answer gives that year's figure (a table of past years) goes before the group.
    """
    order = list(hits)
    year = asked_year(question, today)
    groups: Dict[Tuple[str, str], List[int]] = {}
    for index, hit in enumerate(order):
        if title_years(hit.title):
            groups.setdefault((hit.topic, fact_of(hit.title)), []).append(index)
    for (topic, _), positions in groups.items():
        siblings = [(index, title_years(order[index].title)) for index in positions]
        chosen = _preferred(siblings, year, today)
        if chosen is None and year is not None:
            chosen = next((index for index, hit in enumerate(order)
                           if hit.topic == topic and not title_years(hit.title) and f"{year}年" in hit.answer), None)
            if chosen is not None:
                positions = sorted({*positions, chosen})
        if chosen is None or chosen == positions[0]:
            continue
        best = order[chosen]
        members = [best, *(order[index] for index in positions if index != chosen)]
        for slot, member in zip(positions, members, strict=True):
            order[slot] = member
    return order
