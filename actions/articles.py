"""Policy, pension and medical-insurance answers: the best-matching published article, cited, with next-best topics."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback, latest_entity, latest_question
from actions.follow_ups import is_follow_up, last_topic, merged_question, remember, what_changes
from actions.knowledge_access import knowledge_session
from knowledge.articles.freshness import outdated_year
from knowledge.articles.search import published_article, related_articles, search_articles
from knowledge.catalog.snapshot import catalog
from knowledge.local_time import local_today
from wording import article_year_note

logger = logging.getLogger(__name__)

# Shown as a "不是这个？" button title: Telegram shows about this many characters on a button.
_BUTTON_TITLE_LENGTH = 16
# How much of a question the best article must cover (ArticleHit.coverage) to be given as its answer.
# Measured on the labelled farmer questions (tests/golden/articles*.yml): every one that has an
# article covers at least 0.36 of it; questions the knowledge base does not cover ("低保怎么申请",
# "宅基地证咋办") mostly cover under 0.35. Below this the farmer is offered a person instead; a
# question that names the article's topic ("二轮眼包咋弄": few words, one of them the topic) may
# cover a little less.
NOT_ANSWERED_BELOW = 0.35
NOT_ANSWERED_BELOW_WITH_TOPIC = 0.3
# A hit that covers less than this and shares no topic word with the question (only everyday words
# such as "每亩多少钱") may answer another question: it is given, with the offer of a person.
UNSURE_BELOW = 0.65


def is_unanswered(hit: Any) -> bool:
    """The best article covers too little of the question to be its answer."""
    return hit.coverage < (NOT_ANSWERED_BELOW_WITH_TOPIC if hit.topic_named else NOT_ANSWERED_BELOW)


def is_unsure(hit: Any) -> bool:
    """The best article may answer another question: little covered and its topic not named."""
    return hit.coverage < UNSURE_BELOW and not hit.topic_named


def reference(hit: Any) -> str:
    """"发改价格〔2024〕1405号，国家发展改革委，发布日期2024-09-27": document number, source and date."""
    parts = [part for part in (hit.doc_number, hit.source) if part]
    if hit.published_on:
        parts.append(f"发布日期{hit.published_on.isoformat()}")
    return "，".join(parts)


def regional_note(hit: Any) -> str:
    """"以当地公示为准" wherever the fact depends on the place or is only indicative."""
    if hit.region:
        return f"本条适用于{hit.region}，以当地公示为准。"
    if hit.confidence == "U" and "以当地公示为准" not in hit.answer:
        return "数字仅供参考，以当地公示为准。"
    return ""


def _title(hit: Any) -> str:
    title = hit.title
    return title if len(title) <= _BUTTON_TITLE_LENGTH else title[: _BUTTON_TITLE_LENGTH - 1] + "…"


# The intent each shelf's questions have: the "不是这个？" buttons ask it again with the article's id.
INTENT_OF_CATEGORY = {"policy": "ask_policy", "pension": "ask_pension", "medical": "ask_medical_insurance"}
# A question the NLU did not place is still answered from an article when it names the article's
# topic and the article covers this much of it ("良补按哪个文件发的", "土地沿包是怎么回事").
FOUND_WITHOUT_NLU = 0.6


def say_article(dispatcher: CollectingDispatcher, best: Any, others: List[Any], question: str,
                unsure: bool = False) -> None:
    """The article as the answer (title, answer, reference), a doubt if `unsure`, "不是这个？" and 👍/👎.

    A fact of an earlier year than the one asked about says so: a newer figure may have been announced."""
    intent = INTENT_OF_CATEGORY.get(best.category, "ask_policy")
    today = local_today()
    year = outdated_year(best.title, today, question)
    year_note = article_year_note(year, today) if year is not None else ""
    dispatcher.utter_message(response="utter_article", title=best.title, answer=best.answer,
                             reference=reference(best), regional_note=year_note + regional_note(best))
    if unsure:
        dispatcher.utter_message(response="utter_article_unsure")
    if len(others) >= 2:
        dispatcher.utter_message(response="utter_article_alternatives", intent=intent,
                                 title_1=_title(others[0]), id_1=others[0].article_id,
                                 title_2=_title(others[1]), id_2=others[1].article_id)
    elif len(others) == 1:
        dispatcher.utter_message(response="utter_article_alternative", intent=intent,
                                 title_1=_title(others[0]), id_1=others[0].article_id)
    ask_for_feedback(dispatcher, best.category)


def answer_by_search(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[Dict[str, Any]]]:
    """Answer a question the NLU could not place from the article that plainly covers it; None if none does."""
    question = latest_question(tracker)
    if not question:
        return None
    region = tracker.get_slot("place")
    with knowledge_session() as session:
        hits = search_articles(session, question, region=region, limit=8)
        if not hits or not hits[0].topic_named or hits[0].coverage < FOUND_WITHOUT_NLU:
            return None
        best = hits[0]
        others = related_articles(session, best, [hit for hit in hits if hit.category == best.category],
                                  limit=2, region=region)
    logger.info("Answered from article %s although the NLU did not understand the question", best.article_id)
    say_article(dispatcher, best, others, question)
    return remember(topic=best.category, asked=question)


class ArticleAnswer(Action, ABC):
    """Answers a question of one category from the best-matching published article.

    Abstract, so that Rasa's SDK registers only the subclasses (it skips abstract classes); it
    would otherwise register this one under the policy action's name too.
    """

    @property
    @abstractmethod
    def category(self) -> str:
        """The article category (policy, pension, medical) this action answers from."""

    def name(self) -> str:
        return f"action_answer_{self.category}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        article_id = latest_entity(tracker, "article_id")
        region = tracker.get_slot("place")
        question = ""
        with knowledge_session() as session:
            if article_id and article_id.isdigit():
                hit = published_article(session, int(article_id))
                hits = [hit] if hit is not None else []
            else:
                question = self._question(session, tracker)
                hits = self._search(session, question, region)
            # The question this answer is for: a follow-up ("那粳稻呢") changes a word of it.
            remembered = remember(topic=self.category, asked=question or tracker.get_slot("asked"))
            if not hits or (question and is_unanswered(hits[0])):
                logger.info("No article answers the question (best coverage %s)",
                            hits[0].coverage if hits else None)
                dispatcher.utter_message(response="utter_article_not_found")
                return remembered
            # "不是这个？" offers related topics only (same topic, then same category), never another shelf.
            best, others = hits[0], related_articles(session, hits[0], hits, limit=2, region=region)
        say_article(dispatcher, best, others, question, unsure=bool(question) and is_unsure(best))
        return remembered

    def _question(self, session: Any, tracker: Tracker) -> str:
        """What to search for: the farmer's words, or for a follow-up the question before with what changed."""
        text = latest_question(tracker)
        previous = tracker.get_slot("asked")
        if text and previous and is_follow_up(tracker) and last_topic(tracker) == self.category:
            named = [name for name in catalog(session).product_names() if name in str(previous)]
            return merged_question(str(previous), what_changes(tracker), named, local_today().year)
        return text or " ".join(
            value for value in (tracker.get_slot("policy_topic"), tracker.get_slot("product")) if value
        )

    def _search(self, session: Any, question: str, region: Optional[str]) -> List[Any]:
        if not question:
            return []
        hits = search_articles(session, question, region=region, limit=8)
        # The intent says which shelf the farmer means; other shelves only fill in when it is empty.
        same = [hit for hit in hits if hit.category == self.category]
        other = [hit for hit in hits if hit.category != self.category]
        return same + other


class ActionAnswerPolicy(ArticleAnswer):
    """Agricultural policy and subsidies (最低收购价, 粮补, 农机补贴 …)."""

    category = "policy"


class ActionAnswerPension(ArticleAnswer):
    """城乡居民基本养老保险 (新农保, 老年金)."""

    category = "pension"


class ActionAnswerMedicalInsurance(ArticleAnswer):
    """城乡居民基本医疗保险 (新农合, 合作医疗)."""

    category = "medical"

    def name(self) -> str:
        return "action_answer_medical_insurance"
