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
_FULL_YEAR = re.compile(rf"(?<!\d)({_YEAR})(?!\d)(年)?")
# After a bare four-digit number these say it is an amount ("2000元", "1500档"), not a year.
_AMOUNT_AFTER = tuple("元块档多以万千百斤亩毛角岁人个")
# "24年" is a year; "交15年", "满十五年", "再延长30年" are durations: the word before tells them apart.
_SHORT_YEAR = re.compile(r"(?<!\d)(\d{2})年(?!以上|以下|左右|多(?!少)|后|以后|以内|内)")
_DURATION_BEFORE = ("交", "缴", "满", "够", "了", "续", "延", "长", "再", "干", "过", "近", "这", "前",
                    "后", "多", "第", "几", "差", "补", "共", "连", "上", "有", "需", "要", "到")
_AMOUNT_BEFORE = ("交", "缴", "选", "存", "补", "领", "档", "拿", "花")
_NOW_WORDS = ("现在", "目前", "最新", "当前", "如今", "眼下", "今年", "这会", "这阵")
# Asking how a yearly figure went over the years, rather than what it is now.
_HISTORY_WORDS = ("历年", "每年都", "这些年", "这几年", "往年", "以前", "从前", "几回", "几次", "变化", "涨了多少回")
_YEAR_IN_TEXT = re.compile(rf"({_YEAR})年")
_RELATIVE = (("大前年", -3), ("前年", -2), ("去年", -1), ("上一年", -1), ("今年", 0), ("当年", 0),
             ("本年", 0), ("明年", 1), ("下一年", 1))



class _Dated(Protocol):
    # Read-only, as the search's frozen ArticleHit has them.
    @property
    def title(self) -> str: ...

    @property
    def topic(self) -> str: ...

    @property
    def answer(self) -> str: ...


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
        before, after = text[: match.start()].rstrip(), text[match.end():]
        if match.group(2):
            if 1990 <= value <= today.year + 5:
                return value
        # A bare number is a year only when it is a recent one and nothing says it is paid.
        elif 2000 < value <= today.year + 1 and not before.endswith(_AMOUNT_BEFORE) \
                and not after.startswith(_AMOUNT_AFTER):
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


def asks_for_now(question: str) -> bool:
    """Whether the question says it wants the current figure ("现在", "目前", "最新", "今年" …), not the history."""
    return any(word in question for word in _NOW_WORDS) and not asks_for_history(question)


def asks_for_history(question: str) -> bool:
    """Whether the question asks how a yearly figure changed over the years ("历年", "这些年", "以前" …)."""
    return any(word in question for word in _HISTORY_WORDS)


def _newest_applicable(siblings: Sequence[Tuple[int, FrozenSet[int]]], today: dt.date) -> int:
    applying = [(max(y for y in years if y <= today.year), index) for index, years in siblings
                if any(y <= today.year for y in years)]
    if applying:
        return max(applying, key=lambda pair: (pair[0], -pair[1]))[1]
    return min(siblings, key=lambda pair: min(pair[1]))[0]


def _is_table_of_years(hit: _Dated) -> bool:
    """An article without a year of its own whose answer runs through several years' figures."""
    return not title_years(hit.title) and len(set(_YEAR_IN_TEXT.findall(hit.answer))) >= 3


def prefer_asked_year(hits: Sequence[Hit], question: str, today: dt.date) -> List[Hit]:
    """The hits reordered so that, among the yearly articles of one fact, the one for the asked year comes first.

    Without a year the newest article that already applies wins; a year later than every
    article's is "now" as well (the answer then carries its own year). Only articles of one topic
    and fact trade places (each group keeps the positions it held), so a year never lifts an
    article of another fact. An article of the topic that tabulates past years goes first when
    the year asked is one no yearly article covers and the table gives it, and after the chosen
    yearly article when the question names a covered year or asks for the current figure.
    """
    order = list(hits)
    year = asked_year(question, today)
    explicit = year is not None or asks_for_now(question)
    groups: Dict[Tuple[str, str], List[int]] = {}
    for index, hit in enumerate(order):
        if title_years(hit.title):
            groups.setdefault((hit.topic, fact_of(hit.title)), []).append(index)
    for (topic, _), positions in groups.items():
        siblings = [(index, title_years(order[index].title)) for index in positions]
        newest = max(max(years) for _, years in siblings)
        covering = [index for index, years in siblings if year is not None and year in years]
        tables = [index for index, hit in enumerate(order) if hit.topic == topic and _is_table_of_years(hit)]
        if asks_for_history(question) and year is None:
            if not tables:
                continue
            chosen = tables[0]
            positions = sorted({*positions, chosen})
        elif year is None or year > newest or covering:
            chosen = covering[0] if covering else _newest_applicable(siblings, today)
            if explicit:
                positions = sorted({*positions, *(index for index in tables if index < chosen)})
        else:
            named = next((index for index in tables if f"{year}年" in order[index].answer), None)
            if named is None:
                continue
            chosen = named
            positions = sorted({*positions, chosen})
        best = order[chosen]
        members = [best, *(order[index] for index in positions if index != chosen)]
        for slot, member in zip(positions, members, strict=True):
            order[slot] = member
    return order
