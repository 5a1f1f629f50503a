"""Price answers: the latest price in the unit asked, with market or region, date and source.

A price question without a product runs `price_form`, which asks for one with buttons for the most
asked products; `validate_price_form` checks the farmer's answer against the knowledge base.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.answers import ask_for_feedback, latest_entity, latest_entity_values, latest_question, latest_text
from actions.asked_dates import as_of_date
from actions.follow_ups import is_follow_up, remember
from actions.knowledge_access import knowledge_session
from knowledge.catalog.lookup import find_product
from knowledge.catalog.near_names import near_products
from knowledge.catalog.units import DEFAULT_ASKED_UNIT, unit_named_in
from knowledge.local_time import local_today
from knowledge.prices.by_place import places_named, price_in_place
from knowledge.prices.queries import LOCAL, SEVERAL, LatestPrice, products_with_prices
from settings import load_settings
from wording import price_answer_values, region_fallback_values, which_place_values

logger = logging.getLogger(__name__)

# Intents that answer the form's question; anything else means the farmer has moved on.
_FORM_ANSWER_INTENTS = {"inform", "ask_price"}


def suggest_near_products(
    dispatcher: CollectingDispatcher, session: Any, words: str, intent: str, in_message: bool = False
) -> bool:
    """"您是不是想问…？" with a button per product `words` nearly names (asking `intent` again); False if none.

    `words` is a product name the farmer typed, or with `in_message` a whole message.
    """
    near = near_products(session, words, in_message=in_message)
    if not near:
        return False
    buttons = [{"title": item.product,
                "payload": f"/{intent}" + json.dumps({"product": item.product}, ensure_ascii=False)} for item in near]
    dispatcher.utter_message(response="utter_did_you_mean", product=near[0].typed,
                             names="、".join(item.product for item in near), buttons=buttons)
    return True


def say_not_a_product(dispatcher: CollectingDispatcher, session: Any, text: str) -> bool:
    """"没找到“金价”…" for the price of something that is not a farm product; False when the text names none."""
    thing = priced_non_product(session, text)
    if thing is None:
        return False
    dispatcher.utter_message(response="utter_unknown_product", product=thing,
                             suggestions="、".join(products_with_prices(session)))
    return True


def say_no_data(dispatcher: CollectingDispatcher, session: Any, product_name: str, intent: str = "ask_price") -> None:
    """"No data for X": "您是不是想问…" for a name we do not know, else the products of the same kind with prices."""
    product = find_product(session, product_name)
    if product is None:
        if not suggest_near_products(dispatcher, session, product_name, intent):
            dispatcher.utter_message(response="utter_price_no_data", product=product_name,
                                     suggestions="、".join(products_with_prices(session)))
        return
    suggestions = products_with_prices(session, category=product.category)
    if suggestions:
        dispatcher.utter_message(response="utter_price_no_data_same_kind", product=product_name,
                                 suggestions="、".join(suggestions))
    else:
        dispatcher.utter_message(response="utter_price_no_data_alone", product=product_name)


# "金价", "油价", "房价": the price of something. Words before 价 that name no thing are skipped.
_PRICE_OF = re.compile(r"([\u4e00-\u9fff]{1,3}?)(?:的)?价(?:格|钱)?")
_NOT_A_THING = frozenset({
    "查", "问", "看", "打听", "说说", "今天", "现在", "最新", "目前", "市场", "收购", "批发", "零售", "出厂", "单",
    "均", "平均", "农产品", "东西", "啥", "什么", "这", "那", "这个", "那个", "多少", "几", "啥子", "行", "报", "物",
    "成本", "保护", "最低", "托市", "收", "卖", "买", "涨", "跌", "降", "定", "标", "地", "本地", "当地", "全国",
    "各地", "最近", "这几天", "今年", "去年", "公斤", "斤", "一斤",
})


_ASKING_AROUND = re.compile(r"^(?:帮|给|我|想|查|问|看|打听|说|报)+|(?:一下|个|下|点)+$")
# "汽油涨价了没", "化肥降价没": the change is asked about, the thing is what comes before it.
_CHANGE_BEFORE_PRICE = re.compile(r"(?:涨|跌|降|调)+$")


def priced_non_product(session: Any, text: str) -> Optional[str]:
    """"金价" in "金价最近涨了没": the price of a thing that is no product we know (or None)."""
    for match in _PRICE_OF.finditer(text or ""):
        # "查个价", "问下价钱", "帮我看看价": asking words, not a thing.
        thing = _CHANGE_BEFORE_PRICE.sub("", _ASKING_AROUND.sub("", match.group(1)))
        if not thing or thing in _NOT_A_THING or find_product(session, thing) or find_product(session, thing + "价"):
            continue
        return thing + "价"
    return None


def ask_which_place(dispatcher: CollectingDispatcher, session: Any, words: str, product_name: str) -> bool:
    """"朝阳有好几个地方…" with a button per place when `words` names several; False when it names one or none."""
    choices = places_named(session, words)
    if len(choices) < 2:
        return False
    buttons = [{"title": choice.label, "payload": "/ask_price" + json.dumps(
        {"product": product_name, "region": choice.label}, ensure_ascii=False)} for choice in choices]
    dispatcher.utter_message(response="utter_which_place", **which_place_values(words, choices), buttons=buttons)
    return True


def _is_fresh_price_request(tracker: Tracker) -> bool:
    """A price question that names nothing at all ("查价格"): a new request, not a follow-up on the last product.

    A unit ("公斤价是多少", "一吨能卖多少钱") is a follow-up on the product just answered."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return (intent == "ask_price" and not tracker.latest_message.get("entities")
            and unit_named_in(latest_text(tracker)) is None)


# "全国平均呢", "全国的": the farmer asks for the national figure, wherever they asked about before.
NATIONAL_WORDS = ("全国", "国家平均", "全国平均")


def asked_context(tracker: Tracker) -> Dict[str, Optional[str]]:
    """The place, unit and date words a price question is about.

    What this message names wins; a follow-up ("一公斤呢", "上个月呢", "那河南呢") keeps the rest from the
    question before (the `place`, `unit` and `date` slots), while a new question starts afresh: the
    newest price, in 斤, for the place it names or none.
    """
    text = latest_question(tracker)
    follow_up = is_follow_up(tracker)
    places = latest_entity_values(tracker, "region")
    if any(word in text for word in NATIONAL_WORDS):
        place = None
    elif places:
        place = places[0]
    else:
        place = tracker.get_slot("place") if follow_up else None
    dates = latest_entity_values(tracker, "date")
    date_words = "".join(dates) if dates else (tracker.get_slot("date") if follow_up else None)
    unit = unit_named_in(text) or (tracker.get_slot("unit") if follow_up else None) or DEFAULT_ASKED_UNIT
    return {"place": place, "unit": unit, "date": date_words or None}


class ValidatePriceForm(FormValidationAction):
    """Checks the product a farmer gives the price form; ends the form quietly when they ask something else."""

    def name(self) -> str:
        return "validate_price_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not tracker.get_slot("product") and intent not in _FORM_ANSWER_INTENTS:
            # The farmer's other question has just been answered: asking for a product again would nag.
            return [SlotSet("requested_slot", None), ActiveLoop(None)]
        return await super().run(dispatcher, tracker, domain)

    def validate_product(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> Dict[str, Any]:
        """A product the knowledge base knows (by name or alias), as its canonical name."""
        if _is_fresh_price_request(tracker):
            return {"product": None}  # "查价格" names nothing: ask, rather than repeat the last product
        with knowledge_session() as session:
            product = find_product(session, str(slot_value or ""))
            if product is not None:
                return {"product": product.name}
            if near_products(session, str(slot_value or "")):
                return {"product": None}  # action_ask_product asks "您是不是想问…" instead of the usual question
            suggestions = products_with_prices(session)
        dispatcher.utter_message(response="utter_unknown_product", product=slot_value,
                                 suggestions="、".join(suggestions))
        return {"product": None}


class ActionAskProduct(Action):
    """The price form's question: "您是不是想问…" when the farmer's words nearly name a product, else which product."""

    def name(self) -> str:
        return "action_ask_product"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        typed, text = latest_entity(tracker, "product"), latest_text(tracker)
        # The farmer's answer to this question is about a price, whatever was asked before.
        asking = remember(topic="price")
        with knowledge_session() as session:
            if typed and suggest_near_products(dispatcher, session, typed, "ask_price"):
                return asking
            if text and suggest_near_products(dispatcher, session, text, "ask_price", in_message=True):
                return asking
            if say_not_a_product(dispatcher, session, text):
                return []
        dispatcher.utter_message(response="utter_ask_product")
        return asking


class ActionAnswerPrice(Action):
    """Answers "X 多少钱" from the knowledge base: newest price, or the newest up to a day asked for."""

    def name(self) -> str:
        return "action_answer_price"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        product_name: Optional[str] = tracker.get_slot("product")
        if not product_name:
            return []  # the price form ended because the farmer asked something else, already answered
        context = asked_context(tracker)
        region_name, unit, date_words = context["place"], str(context["unit"]), context["date"]
        today = local_today()
        as_of = as_of_date(date_words, today)
        # What this answer leaves for a follow-up: the place, unit and date it was for.
        remembered = remember(topic="price", place=region_name, unit=unit, date=date_words)
        with knowledge_session() as session:
            if region_name and ask_which_place(dispatcher, session, region_name, product_name):
                return []
            answer: Optional[LatestPrice] = None
            if as_of is not None:
                answer = price_in_place(session, product_name, region_name, unit=unit, today=today, as_of=as_of)
                if answer is None:
                    dispatcher.utter_message(response="utter_price_none_before", as_of=as_of.isoformat(),
                                             product=product_name)
                    as_of = None
                else:
                    dispatcher.utter_message(response="utter_price_as_of", words=date_words,
                                             as_of=as_of.isoformat())
            if answer is None:
                answer = price_in_place(session, product_name, region_name, unit=unit, today=today)
            if answer is None:
                say_no_data(dispatcher, session, product_name)
                return remembered
        self._say(dispatcher, answer)
        quote = answer.quote
        stale_after = load_settings().stale_after_days
        if as_of is not None:
            days_before = (as_of - quote.report_date).days
            if days_before > stale_after:
                dispatcher.utter_message(response="utter_price_older_than_asked",
                                         date=quote.report_date.isoformat(), days=days_before)
        elif quote.age_days > stale_after:
            dispatcher.utter_message(
                response="utter_price_stale", date=quote.report_date.isoformat(), days=quote.age_days
            )
        ask_for_feedback(dispatcher, "price")
        return remembered

    @staticmethod
    def _say(dispatcher: CollectingDispatcher, answer: LatestPrice) -> None:
        if answer.fell_back:
            dispatcher.utter_message(response="utter_price_region_fallback", **region_fallback_values(answer))
        # A national or regional figure, one market named as local, or several markets with their coverage.
        dispatcher.utter_message(
            response=("utter_price_several" if answer.basis == SEVERAL
                      else "utter_price_local" if answer.basis == LOCAL else "utter_price"),
            **price_answer_values(answer),
        )
