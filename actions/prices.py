"""Price answers: the latest price in the unit asked, with market or region, date and source."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback
from actions.knowledge_access import knowledge_session
from knowledge.lookup import find_product
from knowledge.price_wording import describe_price
from knowledge.prices import LatestPrice, PriceQuote, latest_price, products_with_prices
from settings import load_settings

logger = logging.getLogger(__name__)


def _note(quote: PriceQuote) -> str:
    parts = []
    if quote.note:
        parts.append(f"备注：{quote.note}。")
    if quote.confidence == "U" and "以当地公示为准" not in (quote.note or ""):
        parts.append("指示性价格，以当地公示为准。")
    return "".join(parts)


class ActionAnswerPrice(Action):
    """Answers "X 多少钱" from the knowledge base, or asks which product when none was named."""

    def name(self) -> str:
        return "action_answer_price"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        product_name: Optional[str] = tracker.get_slot("product")
        region_name: Optional[str] = tracker.get_slot("region")
        if not product_name:
            dispatcher.utter_message(response="utter_ask_product")
            return []
        today = dt.date.today()
        with knowledge_session() as session:
            answer: Optional[LatestPrice] = latest_price(session, product_name, region_name, today=today)
            if answer is None:
                product = find_product(session, product_name)
                suggestions = products_with_prices(session, category=product.category if product else None)
                dispatcher.utter_message(
                    response="utter_price_no_data", product=product_name, suggestions="、".join(suggestions)
                )
                return []
        quote = answer.quote
        if answer.fell_back:
            dispatcher.utter_message(
                response="utter_price_region_fallback",
                region=answer.requested_region,
                product=quote.product,
                scope_name=answer.answered_region or "全国",
            )
        scope = answer.answered_region
        dispatcher.utter_message(
            response="utter_price",
            product=quote.product,
            scope=f"（{scope}）" if scope else "",
            price=describe_price(quote),
            market=quote.market,
            date=quote.report_date.isoformat(),
            source=quote.source,
            note=_note(quote),
        )
        if quote.age_days > load_settings().stale_after_days:
            dispatcher.utter_message(
                response="utter_price_stale", date=quote.report_date.isoformat(), days=quote.age_days
            )
        ask_for_feedback(dispatcher, "price")
        return []
