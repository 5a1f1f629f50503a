"""Year-bound articles carry their year, and an answer in a later year says so (issue 15).

Expected before the fix: in November 2026 "稻谷最低收购价" and "新农合一年交多少钱" answered with an earlier
year's figures without a word that a newer figure may exist. The expected year in the note is this year
(the installation's today), so the test holds whenever it runs.
"""
import datetime as dt

from actions.articles import ActionAnswerMedicalInsurance, ActionAnswerPolicy
from knowledge.articles.freshness import article_year, outdated_year
from knowledge.articles.search import rebuild_search_index
from knowledge.db import session_scope
from knowledge.local_time import local_today
from knowledge.models import Article
from tests.actions.conftest import make_tracker, message, run_action


def test_the_year_of_a_year_bound_article_comes_from_its_title():
    assert article_year("2025年稻谷最低收购价（未核实）") == 2025
    assert article_year("城乡居民医保一年交多少钱（2024年通知）") == 2024
    assert article_year("2025年和2026年小麦最低收购价") == 2026
    assert article_year("黑龙江2022年玉米大豆生产者补贴标准") == 2022
    # Not a fact of a year: a table of years, or a how-to.
    assert article_year("城乡居民基础养老金最低标准历年变化") is None
    assert article_year("城乡居民医保异地就医怎么报销") is None
    today = dt.date(2026, 11, 30)
    assert outdated_year("2025年稻谷最低收购价", today) == 2025
    assert outdated_year("2025年稻谷最低收购价", today, "25年稻谷最低收购价") is None  # that year was asked for
    assert outdated_year("2025年和2026年小麦最低收购价", today) is None


async def test_an_earlier_years_price_policy_says_its_year(knowledge_factory) -> None:
    this_year = local_today().year
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="稻谷最低收购价"))
    answer = message(dispatcher, "utter_article")
    assert answer["title"] == "2025年稻谷最低收购价（未核实）"
    if this_year > 2025:
        assert answer["regional_note"].startswith(f"这是2025年的标准，{this_year}年的标准以当地公示为准。")


async def test_the_medical_insurance_notice_of_2024_says_its_year(knowledge_factory) -> None:
    this_year = local_today().year
    dispatcher, _ = await run_action(ActionAnswerMedicalInsurance(),
                                     make_tracker("ask_medical_insurance", text="新农合一年交多少钱"))
    answer = message(dispatcher, "utter_article")
    assert answer["title"] == "城乡居民医保一年交多少钱（2024年通知）"
    assert answer["regional_note"].startswith(f"这是2024年的标准，{this_year}年的标准以当地公示为准。")


async def test_a_newer_years_article_answers_instead_without_the_note(knowledge_factory) -> None:
    this_year = local_today().year
    with session_scope(knowledge_factory) as session:
        session.add(Article(category="policy", topic="最低收购价", title=f"{this_year}年稻谷最低收购价",
                            answer=f"{this_year}年早籼稻、中晚籼稻和粳稻最低收购价分别为每50公斤125元、130元、133元。"[:200],
                            questions="稻谷最低收购价", source="国家发展改革委", status="published",
                            published_on=dt.date(this_year, 2, 1)))
        session.flush()
        rebuild_search_index(session)
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="稻谷最低收购价"))
    answer = message(dispatcher, "utter_article")
    assert answer["title"] == f"{this_year}年稻谷最低收购价"
    assert "年的标准，" not in answer["regional_note"]
