"""Trend and comparison answers: "玉米最近涨了还是跌了", "郑州和石家庄哪里贵"."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback, latest_entity_values, latest_text
from actions.follow_ups import remember
from actions.knowledge_access import knowledge_session
from actions.prices import asked_context, say_no_data, say_not_a_product, suggest_near_products
from knowledge.catalog.units import format_price
from knowledge.prices.queries import compare_markets, price_trend
from settings import load_settings
from wording import describe_price

logger = logging.getLogger(__name__)

_MOVEMENT = {"up": "涨了", "down": "跌了", "flat": "基本持平"}
# Words that make a trend question a comparison between markets or places.
_COMPARISON_WORDS = ("比较", "对比", "哪里", "哪儿", "哪个市场", "哪个地方", "各地", "各省", "差多少", "比一比")


def _movement(trend: Any) -> str:
    if trend.change_percent is None or trend.direction == "flat":
        return _MOVEMENT[trend.direction]
    return f"{_MOVEMENT[trend.direction]}{abs(trend.change_percent)}%"


def _quote_line(quote: Any) -> str:
    return f"{quote.market} {describe_price(quote)}（{quote.report_date.isoformat()}）"


def is_comparison(text: str, regions: List[str]) -> bool:
    """True when the farmer compares places ("郑州和石家庄哪里贵") rather than asking for a trend."""
    return len(regions) > 1 or any(word in text for word in _COMPARISON_WORDS)


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
                    return []
                if not suggest_near_products(dispatcher, session, text, "ask_price_trend", in_message=True):
                    dispatcher.utter_message(response="utter_ask_trend_product")
            return remembered
        text = latest_text(tracker)
        regions = latest_entity_values(tracker, "region")
        today = dt.date.today()
        with knowledge_session() as session:
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
            dispatcher.utter_message(
                response="utter_price_region_fallback",
                region=trend.requested_region,
                product=trend.product,
                scope_name=trend.answered_region or "全国",
            )
        scope = f"（{trend.answered_region}）" if trend.answered_region else ""
        if not trend.enough_data:
            dispatcher.utter_message(
                response="utter_price_trend_single",
                product=trend.product,
                scope=scope,
                date=trend.last.report_date.isoformat(),
                price=f"{format_price(trend.last.price)}{trend.unit}",
                market=trend.market,
                source=trend.source,
            )
        else:
            dispatcher.utter_message(
                response="utter_price_trend",
                product=trend.product,
                scope=scope,
                first_date=trend.first.report_date.isoformat(),
                first_price=f"{format_price(trend.first.price)}{trend.unit}",
                last_date=trend.last.report_date.isoformat(),
                last_price=f"{format_price(trend.last.price)}{trend.unit}",
                movement=_movement(trend),
                market=trend.market,
                source=trend.source,
            )
        if trend.age_days > load_settings().stale_after_days:
            dispatcher.utter_message(
                response="utter_price_stale", date=trend.last.report_date.isoformat(), days=trend.age_days
            )

    @staticmethod
    def _say_comparison(dispatcher: CollectingDispatcher, comparison: Any) -> None:
        unit = comparison.unit
        regional = ""
        if comparison.regional_price is not None:
            place = comparison.answered_region or comparison.requested_region
            regional = f"{place}平均{format_price(comparison.regional_price)}{unit}"
            if comparison.regional_vs_national_percent is not None:
                regional += f"，比全国{'高' if comparison.regional_vs_national_percent >= 0 else '低'}"
                regional += f"{abs(comparison.regional_vs_national_percent)}%"
            regional += "。"
        dispatcher.utter_message(
            response="utter_price_comparison",
            product=comparison.product,
            lines="\n" + "\n".join(_quote_line(quote) for quote in comparison.quotes[:6]),
            highest=_quote_line(comparison.highest) if comparison.highest else "无",
            lowest=_quote_line(comparison.lowest) if comparison.lowest else "无",
            national=(
                f"{format_price(comparison.national_price)}{unit}" if comparison.national_price is not None else "无"
            ),
            national_basis=comparison.national_basis,
            regional=regional,
        )
