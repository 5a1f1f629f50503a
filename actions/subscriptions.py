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
from actions.pension_calculator import parse_yuan
from knowledge.catalog.lookup import find_product, find_region
from knowledge.catalog.units import format_price
from knowledge.models import Subscription
from knowledge.people.subscriptions import active_subscriptions, cancel_subscriptions, subscribe
from knowledge.prices.queries import products_with_prices

_BELOW = re.compile(r"低于|跌破|跌到|降到|以下|不到")
_DAILY = re.compile(r"每天|天天|每日|每早|每天早上")
_HOUR = re.compile(r"(\d{1,2})\s*点")


def alert_rule(text: str, amount: Optional[str]) -> Tuple[str, Optional[Decimal], Optional[int]]:
    """(rule, threshold, daily hour) from what the farmer wrote: below/above a price, daily, or any change."""
    threshold = parse_yuan(amount) if amount else None
    if threshold is not None:
        return ("below" if _BELOW.search(text) else "above"), threshold, None
    if _DAILY.search(text):
        hour = _HOUR.search(text)
        return "daily", None, int(hour.group(1)) % 24 if hour else 8
    return "any_change", None, None


def describe_rule(subscription: Subscription) -> str:
    """"价格有变化就通知", "低于1.1元/斤时通知", "每天8点推送"."""
    if subscription.rule in ("above", "below"):
        assert subscription.threshold is not None  # alert_rule gives these rules only with a threshold
        side = "高于" if subscription.rule == "above" else "低于"
        return f"{side}{format_price(subscription.threshold)}元/斤时通知"
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
            if product is None:
                dispatcher.utter_message(
                    response="utter_unknown_product",
                    product=product_name,
                    suggestions="、".join(products_with_prices(session)),
                )
                return []
            region = find_region(session, region_name) if region_name else None
            farmer = farmer_for(session, tracker, region_name)
            subscription, created = subscribe(session, farmer, product, region, rule, threshold, hour)
            dispatcher.utter_message(
                response="utter_subscribed" if created else "utter_subscription_exists",
                product=product.name,
                scope=_scope(subscription),
                rule=describe_rule(subscription),
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
