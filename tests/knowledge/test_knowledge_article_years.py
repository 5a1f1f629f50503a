"""Year-bound facts: the year a question asks about, the years an article is for, and which yearly article wins."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from knowledge.articles.ranking import Wording, pieces, wording_scores
from knowledge.articles.years import asked_year, fact_of, prefer_asked_year, title_years

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("question", "year"),
    [
        ("2024年小麦最低收购价", 2024),
        ("小麦最低收购价2024是多少", 2024),
        ("2024的麦子保护价", 2024),
        ("24年稻谷保护价", 2024),
        ("二零二四年老年金", 2024),
        ("二四年麦子托市价", 2024),
        ("黑龙江22年大豆补贴", 2022),
        ("去年基础养老金", 2025),
        ("前年小麦保护价", 2024),
        ("大前年", 2023),
        ("今年粮补", 2026),
        ("明年小麦保护价", 2027),
        # Durations and amounts are not years.
        ("交15年能领多少", None),
        ("交够15年就能领吗", None),
        ("再延长30年", None),
        ("交了10年到60能领吗", None),
        ("交2000的档", None),
        ("2000元的档次", None),
        ("交1500一年", None),
        ("基础养老金现在多少", None),
        ("粮补一亩多少钱", None),
    ],
)
def test_the_year_a_question_asks_about(question, year):
    assert asked_year(question, TODAY) == year


def test_relative_years_follow_today():
    assert asked_year("去年基础养老金", dt.date(2025, 6, 1)) == 2024
    assert asked_year("24年麦子", dt.date(2030, 1, 1)) == 2024


@pytest.mark.parametrize(
    ("title", "years", "fact"),
    [
        ("2025年和2026年小麦最低收购价", {2025, 2026}, "小麦最低收购价"),
        ("2024年小麦最低收购价", {2024}, "小麦最低收购价"),
        ("2024—2026年农机购置与应用补贴政策", {2024, 2025, 2026}, "农机购置与应用补贴政策"),
        ("2025年稻谷最低收购价（未核实）", {2025}, "稻谷最低收购价"),
        ("城乡居民医保一年交多少钱（2024年通知）", set(), "城乡居民医保一年交多少钱"),
        ("城乡居民基础养老金最低标准历年变化", set(), "城乡居民基础养老金最低标准历年变化"),
    ],
)
def test_an_articles_years_and_fact_come_from_its_title(title, years, fact):
    assert title_years(title) == frozenset(years)
    assert fact_of(title) == fact


@dataclass(frozen=True)
class Hit:
    title: str
    topic: str = "城乡居民养老保险"
    answer: str = ""


OLD = Hit("2024年城乡居民基础养老金最低标准", answer="2024年123元")
NEW = Hit("2025年城乡居民基础养老金最低标准", answer="2025年143元")
TABLE = Hit("城乡居民基础养老金最低标准历年变化",
            answer="2014年70元，2018年88元，2023年103元，2024年123元，2025年143元")
OTHER = Hit("城乡居民养老金怎么算（除以139）")
WHEAT_OLD = Hit("2024年小麦最低收购价", topic="最低收购价")


def titles(hits):
    return [hit.title for hit in hits]


@pytest.mark.parametrize(
    ("question", "hits", "expected"),
    [
        # No year: the newest that already applies takes the best place of its group.
        ("基础养老金多少", [OLD, OTHER, NEW], [NEW, OTHER, OLD]),
        ("基础养老金多少", [OTHER, OLD, NEW], [OTHER, NEW, OLD]),
        # A named year picks its own article, and relative years follow today.
        ("2024年基础养老金", [NEW, OLD], [OLD, NEW]),
        ("前年基础养老金", [NEW, OLD], [OLD, NEW]),
        ("去年基础养老金", [OLD, NEW], [NEW, OLD]),
        # A year later than every article's means now.
        ("今年基础养老金", [OLD, NEW], [NEW, OLD]),
        # "现在" puts the current article before a table of past years; a year only the table gives
        # puts the table first; asking how it went over the years keeps the table first.
        ("基础养老金现在多少", [TABLE, OLD, NEW], [NEW, TABLE, OLD]),
        ("2018年基础养老金", [NEW, OLD, TABLE], [TABLE, NEW, OLD]),
        ("基础养老金这些年涨了多少", [NEW, OLD, TABLE], [TABLE, NEW, OLD]),
        # Articles of other facts or topics never trade places with the yearly group.
        ("2024年基础养老金", [WHEAT_OLD, NEW, OTHER, OLD], [WHEAT_OLD, OLD, OTHER, NEW]),
    ],
)
def test_the_yearly_article_for_the_asked_year_comes_first(question, hits, expected):
    assert titles(prefer_asked_year(hits, question, TODAY)) == titles(expected)


def test_a_fact_not_yet_in_force_is_the_earliest_when_none_applies():
    future = [Hit("2028年小麦最低收购价", "最低收购价"), Hit("2027年小麦最低收购价", "最低收购价")]
    assert titles(prefer_asked_year(future, "小麦最低收购价", TODAY))[0] == "2027年小麦最低收购价"


def test_characters_and_pairs_survive_a_different_cut():
    assert {"卡", "打到", "139"} <= set(pieces("打到哪个卡上139"))
    assert "的" not in pieces("粮补的钱")  # an empty character alone is no piece


def test_the_closest_question_form_decides_among_articles_of_one_topic():
    when = Wording.of(["粮补什么时候发", "种粮补贴打到哪个卡上"], "打到一卡通账户里，每年6月底前发")
    who = Wording.of(["粮补给谁发", "租地的有没有粮补"], "发给承包户，按承包面积")
    scores = wording_scores("粮补钱发到什么卡里", [when, who])
    assert scores[0] > scores[1]
    scores = wording_scores("租别人地种能领粮补", [when, who])
    assert scores[1] > scores[0]
