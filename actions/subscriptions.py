"""Price alerts: subscribe ("玉米价格变了告诉我"), list ("我订了啥") and cancel ("取消订阅")."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import latest_entity, latest_text
from actions.farmers import farmer_for
from actions.knowledge_access import knowledge_session
from actions.prices import suggest_near_products
from knowledge.catalog.amounts import find_money, parse_money
from knowledge.catalog.lookup import find_product, find_region
from knowledge.catalog.units import DEFAULT_ASKED_UNIT, convert_price, format_price, unit_asked_in
from knowledge.models import Subscription
from knowledge.people.subscriptions import active_subscriptions, cancel_subscriptions, subscribe
from knowledge.prices.queries import products_with_prices

_BELOW = re.compile(r"低于|跌破|跌到|降到|掉到|以下|不到")
_DAILY = re.compile(r"每天|天天|每日|每早|每天早上")
_HOUR = re.compile(r"(\d{1,2})\s*点")
# A bare price after a word of reaching ("涨到1.2", "跌破7"), when the farmer names no 块 or 元.
_BARE_PRICE = re.compile(r"(?:到|过|破|于|超过)\s*(\d+(?:\.\d+)?)(?![\d点])")
# Thresholds are kept in 元/斤, the unit the alerts compare in, to the 4 decimals of the price column.
STORED_UNIT = DEFAULT_ASKED_UNIT


def threshold_in(text: str, amount: Optional[str]) -> Optional[Decimal]:
    """The price the farmer names, in the unit they name it in.

    The amount of money in the text that the amount entity starts ("1" of "1块2" is 1.2), else the
    entity's value, else the first amount of money or bare price in the text.
    """
    money = find_money(text)
    if amount:
        entity = amount.strip()
        whole = next((item.value for item in money if text[item.start:item.end].startswith(entity)), None)
        return whole if whole is not None else parse_money(entity)
    if money:
        return money[0].value
    bare = _BARE_PRICE.search(text)
    return Decimal(bare.group(1)) if bare else None


def alert_rule(text: str, amount: Optional[str]) -> Tuple[str, Optional[Decimal], Optional[int]]:
    """(rule, threshold in 元/斤, daily hour) from what the farmer wrote: below/above a price, daily, or any change."""
    threshold = threshold_in(text, amount)
    if threshold is not None:
        stored = convert_price(threshold, unit_asked_in(text), STORED_UNIT).quantize(Decimal("0.0001"))
        return ("below" if _BELOW.search(text) else "above"), stored, None
    if _DAILY.search(text):
        hour = _HOUR.search(text)
        return "daily", None, int(hour.group(1)) % 24 if hour else 8
    return "any_change", None, None


def describe_rule(subscription: Subscription, unit: str = STORED_UNIT) -> str:
    """"价格有变化就通知", "低于1.10元/斤时通知", "每天8点推送"; a threshold in `unit` (the farmer's own)."""
    if subscription.rule in ("above", "below"):
        assert subscription.threshold is not None  # alert_rule gives these rules only with a threshold
        threshold = format_price(convert_price(subscription.threshold, STORED_UNIT, unit))
        return f"{'高于' if subscription.rule == 'above' else '低于'}{threshold}{unit}时通知"
    if subscription.rule == "daily":
        return f"每天{subscription.daily_hour}点推送"
    return "价格有变化就通知"


def _scope(subscription: Subscription) -> str:
    return f"（{subscription.region.name}）" if subscription.region is not None else ""


class ActionSubscribePriceAlert(Action):
    """Creates a price alert for the named product (and region, when one is known)."""

    def name(self) -> str:
        return "action_subscribe_price_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        product_name = latest_entity(tracker, "product") or tracker.get_slot("product")
        if not product_name:
            dispatcher.utter_message(response="utter_ask_subscribe_product")
            return []
        region_name = tracker.get_slot("region")
        rule, threshold, hour = alert_rule(latest_text(tracker), latest_entity(tracker, "amount"))
        with knowledge_session() as session:
            product = find_product(session, product_name)
            if product is None and suggest_near_products(dispatcher, session, product_name, "subscribe_price_alert"):
                return []
            if product is None:
                dispatcher.utter_message(
                    response="utter_unknown_product",
                    product=product_name,
                    suggestions="、".join(products_with_prices(session)),
                )
                return []
            region = find_region(session, region_name) if region_name else None
            farmer = farmer_for(session, tracker)
            subscription, created = subscribe(session, farmer, product, region, rule, threshold, hour)
            dispatcher.utter_message(
                response="utter_subscribed" if created else "utter_subscription_exists",
                product=product.name,
                scope=_scope(subscription),
                rule=describe_rule(subscription, unit_asked_in(latest_text(tracker))),
            )
        return []


class ActionListSubscriptions(Action):
    """Lists the farmer's active price alerts."""

    def name(self) -> str:
        return "action_list_subscriptions"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        with knowledge_session() as session:
            farmer = farmer_for(session, tracker)
            subscriptions = active_subscriptions(session, farmer.id)
            if not subscriptions:
                dispatcher.utter_message(response="utter_no_subscriptions")
                return []
            lines = "\n".join(
                f"{index}. {item.product.name}{_scope(item)}：{describe_rule(item)}"
                for index, item in enumerate(subscriptions, start=1)
            )
        dispatcher.utter_message(response="utter_subscriptions", lines=lines)
        return []


class ActionUnsubscribePriceAlert(Action):
    """Cancels the alerts for the named product, or all of them when no product was named."""

    def name(self) -> str:
        return "action_unsubscribe_price_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        product_name = latest_entity(tracker, "product")
        with knowledge_session() as session:
            farmer = farmer_for(session, tracker)
            product = find_product(session, product_name) if product_name else None
            cancelled = cancel_subscriptions(session, farmer.id, product)
            if not cancelled:
                dispatcher.utter_message(response="utter_no_subscriptions")
                return []
            dispatcher.utter_message(
                response="utter_unsubscribed",
                what=product.name if product is not None else "全部",
                count=cancelled,
            )
        return []
