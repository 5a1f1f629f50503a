"""Trend and comparison answers: "玉米最近涨了还是跌了", "郑州和石家庄哪里贵"."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback, latest_entity_values, latest_text
from actions.follow_ups import remember
from actions.knowledge_access import knowledge_session
from actions.prices import asked_context, say_no_data, say_not_a_product, suggest_near_products
from knowledge.local_time import local_today
from knowledge.prices.queries import compare_markets, compare_places, price_trend
from settings import load_settings
from wording import comparison_values, place_comparison_values, region_fallback_values, trend_values

logger = logging.getLogger(__name__)

# Words that make a trend question a comparison between markets or places.
_COMPARISON_WORDS = ("比较", "对比", "哪里", "哪儿", "哪个市场", "哪个地方", "各地", "各省", "差多少", "比一比")


def is_comparison(text: str, regions: List[str]) -> bool:
    """True when the farmer compares places ("郑州和石家庄哪里贵") rather than asking for a trend."""
    # Two extractors may both find one place ("石家庄" twice): it is two places only if they differ.
    return len(set(regions)) > 1 or any(word in text for word in _COMPARISON_WORDS)


class ActionAnswerPriceTrend(Action):
    """Answers whether a price goes up or down, or compares markets, from the knowledge base."""

    def name(self) -> str:
        return "action_answer_price_trend"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        product_name: Optional[str] = tracker.get_slot("product")
        context = asked_context(tracker)
        region_name, unit = context["place"], str(context["unit"])
        remembered = remember(topic="trend", place=region_name, unit=unit)
        if not product_name:
            with knowledge_session() as session:
                text = latest_text(tracker)
                if say_not_a_product(dispatcher, session, text):
                    return remembered
                if not suggest_near_products(dispatcher, session, text, "ask_price_trend", in_message=True):
                    dispatcher.utter_message(response="utter_ask_trend_product")
            return remembered
        text = latest_text(tracker)
        regions = latest_entity_values(tracker, "region")
        today = local_today()
        with knowledge_session() as session:
            if len(set(regions)) > 1:
                # "郑州和石家庄哪里的白菜便宜": each place asked for, from its own markets.
                places = compare_places(session, product_name, list(dict.fromkeys(regions)), unit=unit, today=today)
                if places is not None:
                    dispatcher.utter_message(response="utter_price_place_comparison",
                                             **place_comparison_values(places))
                    ask_for_feedback(dispatcher, "compare")
                    return remembered
            if is_comparison(text, regions):
                comparison = compare_markets(session, product_name, region_name, unit=unit, today=today)
                if comparison is not None and comparison.quotes:
                    self._say_comparison(dispatcher, comparison)
                    ask_for_feedback(dispatcher, "compare")
                    return remembered
            trend = price_trend(session, product_name, region_name, unit=unit, today=today)
            if trend is not None and not trend.enough_data:
                # A sparse series (monthly bulletins): compare the last two records instead of 30 days.
                trend = price_trend(session, product_name, region_name, unit=unit, days=None, records=2,
                                    today=today)
            if trend is None:
                say_no_data(dispatcher, session, product_name, "ask_price_trend")
                return remembered
        self._say_trend(dispatcher, trend)
        ask_for_feedback(dispatcher, "trend")
        return remembered

    @staticmethod
    def _say_trend(dispatcher: CollectingDispatcher, trend: Any) -> None:
        if trend.fell_back:
            dispatcher.utter_message(response="utter_price_region_fallback", **region_fallback_values(trend))
        dispatcher.utter_message(
            response="utter_price_trend" if trend.enough_data else "utter_price_trend_single", **trend_values(trend)
        )
        if trend.age_days > load_settings().stale_after_days:
            dispatcher.utter_message(
                response="utter_price_stale", date=trend.last.report_date.isoformat(), days=trend.age_days
            )

    @staticmethod
    def _say_comparison(dispatcher: CollectingDispatcher, comparison: Any) -> None:
        dispatcher.utter_message(response="utter_price_comparison", **comparison_values(comparison))
