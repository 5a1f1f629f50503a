"""Policy, pension and medical-insurance answers: the best-matching published article, cited, with next-best topics."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback, latest_entity, latest_text
from actions.knowledge_access import knowledge_session
from knowledge.articles.freshness import outdated_year
from knowledge.articles.search import published_article, related_articles, search_articles
from knowledge.local_time import local_today
from wording import article_year_note

logger = logging.getLogger(__name__)

# Shown as a "不是这个？" button title: Telegram shows about this many characters on a button.
_BUTTON_TITLE_LENGTH = 16


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


class ArticleAnswer(Action, ABC):
    """Answers a question of one category from the best-matching published article.

    Abstract, so that Rasa's SDK registers only the subclasses (it skips abstract classes); it
    would otherwise register this one under the policy action's name too.
    """

    intent: str

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
        region = tracker.get_slot("region")
        with knowledge_session() as session:
            if article_id and article_id.isdigit():
                hit = published_article(session, int(article_id))
                hits = [hit] if hit is not None else []
            else:
                hits = self._search(session, tracker, region)
            if not hits:
                dispatcher.utter_message(response="utter_article_not_found")
                return []
            # "不是这个？" offers related topics only (same topic, then same category), never another shelf.
            best, others = hits[0], related_articles(session, hits[0], hits, limit=2, region=region)
        # A fact of an earlier year says so: a newer figure may have been announced since.
        year = outdated_year(best.title, local_today(), latest_text(tracker) or "")
        dispatcher.utter_message(
            response="utter_article",
            title=best.title,
            answer=best.answer,
            reference=reference(best),
            regional_note=(article_year_note(year, local_today()) if year is not None else "") + regional_note(best),
        )
        if len(others) == 2:
            dispatcher.utter_message(
                response="utter_article_alternatives",
                intent=self.intent,
                title_1=_title(others[0]),
                id_1=others[0].article_id,
                title_2=_title(others[1]),
                id_2=others[1].article_id,
            )
        elif len(others) == 1:
            dispatcher.utter_message(
                response="utter_article_alternative",
                intent=self.intent,
                title_1=_title(others[0]),
                id_1=others[0].article_id,
            )
        ask_for_feedback(dispatcher, self.category)
        return []

    def _search(self, session: Any, tracker: Tracker, region: Optional[str]) -> List[Any]:
        question = latest_text(tracker) or " ".join(
            value for value in (tracker.get_slot("policy_topic"), tracker.get_slot("product")) if value
        )
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
    intent = "ask_policy"


class ActionAnswerPension(ArticleAnswer):
    """城乡居民基本养老保险 (新农保, 老年金)."""

    category = "pension"
    intent = "ask_pension"


class ActionAnswerMedicalInsurance(ArticleAnswer):
    """城乡居民基本医疗保险 (新农合, 合作医疗)."""

    category = "medical"
    intent = "ask_medical_insurance"

    def name(self) -> str:
        return "action_answer_medical_insurance"
