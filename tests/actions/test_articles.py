"""Policy, pension and medical answers: best article cited with its source, "不是这个？" buttons, feedback."""
import datetime as dt

import pytest

from actions.articles import ActionAnswerMedicalInsurance, ActionAnswerPension, ActionAnswerPolicy
from knowledge.articles.search import rebuild_search_index
from knowledge.db import session_scope
from knowledge.models import Article
from nlu.follow_ups import what_changes
from tests.actions.conftest import make_tracker, message, responses, run_action, slots_set

ARTICLES = [
    ("policy", "最低收购价", "2025年小麦最低收购价", "2025年小麦最低收购价为每50公斤119元（每斤1.19元）。",
     "发改价格〔2024〕1405号", "V"),
    ("policy", "耕地地力保护补贴", "粮补（耕地地力保护补贴）怎么发", "按确权面积打到一卡通，一般6月底前发放。",
     "财农〔2023〕12号", "V2"),
    ("policy", "农机购置与应用补贴", "农机购置补贴怎么申请", "自主购机、定额补贴、县级结算、直补到卡。",
     "农办机〔2024〕3号", "V2"),
    ("pension", "城乡居民养老保险", "新农保缴费档次和补贴", "缴费档次100元到2000元，政府补贴不低于30元。",
     "国发〔2014〕8号", "V"),
    ("medical", "城乡居民医保", "新农合（城乡居民医保）交多少", "2025年度个人缴费400元，财政补助不低于670元。",
     None, "V2"),
]


@pytest.fixture
def with_articles(knowledge_factory):
    with session_scope(knowledge_factory) as session:
        for category, topic, title, answer, doc_number, confidence in ARTICLES:
            exists = session.query(Article).filter_by(topic=topic, title=title).first()
            if exists is None:
                article = Article(
                    category=category, topic=topic, title=title, answer=answer, questions=title,
                    doc_number=doc_number, source="测试来源", published_on=dt.date(2024, 9, 27),
                    confidence=confidence, status="published",
                )
                session.add(article)
        session.flush()
        rebuild_search_index(session)
    return knowledge_factory


@pytest.mark.parametrize(
    ("action", "intent", "text", "title"),
    [
        # The shipped article (both years, the full issuing bodies) ranks above the test's one-year one.
        (ActionAnswerPolicy(), "ask_policy", "小麦最低收购价多少", "2025年和2026年小麦最低收购价"),
        (ActionAnswerPolicy(), "ask_policy", "粮补怎么发", "粮补（耕地地力保护补贴）怎么发"),
        (ActionAnswerPension(), "ask_pension", "新农保缴费档次有哪些", "城乡居民养老保险缴费档次"),
        (ActionAnswerMedicalInsurance(), "ask_medical_insurance", "新农合交多少", "新农合（城乡居民医保）交多少"),
    ],
)
async def test_best_article_is_cited(with_articles, action, intent, text, title) -> None:
    dispatcher, events = await run_action(action, make_tracker(intent, text=text))
    # What a follow-up ("那粳稻呢", "24年的呢") needs: which shelf, and the question it changes a word of.
    assert slots_set(events) == {"topic": action.category, "asked": text}
    answer = message(dispatcher, "utter_article")
    assert answer["title"] == title
    assert answer["reference"] and "发布日期" in answer["reference"]
    assert responses(dispatcher)[-1] == "utter_feedback"


async def test_next_best_topics_are_offered_as_buttons(with_articles) -> None:
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="补贴怎么申请 发到哪"))
    # Many articles match, so the two next best are offered (one button only when one other matched). The
    # question names no subsidy, so the answer may be another one's: a person is offered too.
    assert responses(dispatcher) == ["utter_article", "utter_article_unsure", "utter_article_alternatives",
                                     "utter_feedback"]
    offered = message(dispatcher, "utter_article_alternatives")
    assert offered["intent"] == "ask_policy" and offered["id_1"] != offered["id_2"]


async def test_button_with_article_id_shows_that_article(with_articles) -> None:
    with session_scope(with_articles) as session:
        article_id = session.query(Article).filter_by(title="农机购置补贴怎么申请").one().id
    payload = f'/ask_policy{{"article_id":"{article_id}"}}'
    tracker = make_tracker("ask_policy", entities=[("article_id", str(article_id))], text=payload)
    dispatcher, _ = await run_action(ActionAnswerPolicy(), tracker)
    assert "农机" in message(dispatcher, "utter_article")["title"]


async def test_uncertain_fact_says_local_notice(with_articles) -> None:
    with session_scope(with_articles) as session:
        session.add(Article(category="policy", topic="粮补标准", title="粮补每亩多少", answer="每亩约50–150元。",
                            source="各省方案", confidence="U", status="published", questions="粮补每亩多少"))
        session.flush()
        rebuild_search_index(session)
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="粮补每亩多少"))
    answer = message(dispatcher, "utter_article")
    assert "以当地公示为准" in answer["answer"] + answer["regional_note"]


async def test_nothing_found_offers_a_person(with_articles) -> None:
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="火星移民签证"))
    assert responses(dispatcher) == ["utter_article_not_found"]


async def test_not_this_one_offers_only_the_same_shelf(with_articles, monkeypatch) -> None:
    """Whatever else the search found (a policy article sharing a word), the buttons stay on the medical shelf."""
    import actions.articles as articles_action
    from knowledge.articles.search import hit_from_article

    with session_scope(with_articles) as session:
        by_title = {article.title: article for article in session.query(Article)}
        found = [hit_from_article(by_title[title], score=1.0) for title in
                 ("新农合（城乡居民医保）交多少", "2025年小麦最低收购价", "粮补（耕地地力保护补贴）怎么发")]
        category = {article.id: article.category for article in by_title.values()}
    monkeypatch.setattr(articles_action, "search_articles", lambda *args, **kwargs: found)
    dispatcher, _ = await run_action(ActionAnswerMedicalInsurance(),
                                     make_tracker("ask_medical_insurance", text="新农合交多少 小麦多少钱"))
    assert message(dispatcher, "utter_article")["title"] == "新农合（城乡居民医保）交多少"
    offered = [m for m in dispatcher.messages if str(m.get("response", "")).startswith("utter_article_alternative")]
    ids = [int(m[key]) for m in offered for key in ("id_1", "id_2") if key in m]
    assert ids and all(category[article_id] == "medical" for article_id in ids)


@pytest.mark.parametrize(
    ("asked", "follow_up", "title_has"),
    [
        ("小麦最低收购价现在多少", "那2024年的呢", "2024年小麦最低收购价"),  # another year
        ("小麦保护价定的多少", "那粳稻呢", "稻谷最低收购价"),  # another grain
    ],
)
async def test_a_follow_up_asks_the_question_before_with_what_changed(with_articles, asked, follow_up,
                                                                     title_has) -> None:
    tracker = make_tracker("inform", text=follow_up, slots={"topic": "policy", "asked": asked})
    tracker.latest_message["follow_up_change"] = what_changes(follow_up)  # as the NLU says it
    dispatcher, events = await run_action(ActionAnswerPolicy(), tracker)
    assert title_has in message(dispatcher, "utter_article")["title"]
    assert slots_set(events)["asked"] != asked  # the next follow-up changes this question again


async def test_a_follow_up_after_another_kind_of_answer_is_a_question_of_its_own(with_articles) -> None:
    # After a price answer, "那粮补呢" is asked as it stands, not joined to an old policy question.
    tracker = make_tracker("inform", text="粮补怎么发", slots={"topic": "price", "asked": "小麦最低收购价多少"})
    dispatcher, _ = await run_action(ActionAnswerPolicy(), tracker)
    assert "最低收购价" not in message(dispatcher, "utter_article")["title"]


async def test_a_question_the_knowledge_base_does_not_cover_is_offered_a_person(with_articles) -> None:
    # Shares only everyday words with any article: no article is given as its answer.
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="危房改造的钱找谁要"))
    assert responses(dispatcher) == ["utter_article_not_found"]


async def test_a_question_naming_the_topic_gets_its_article_without_doubt(with_articles) -> None:
    dispatcher, _ = await run_action(ActionAnswerPolicy(), make_tracker("ask_policy", text="粮补啥时候发"))
    assert "utter_article_unsure" not in responses(dispatcher)
