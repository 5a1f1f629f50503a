"""How prices are worded for farmers, the same in an answer (actions) and in a pushed alert or digest (gateway).

The templates are domain.yml's responses, read once: an action sends "utter_price" with
price_answer_values(answer) and Rasa fills the template; an alert fills the same template with the
same values here. So a price reads the same whichever way it reaches the farmer, and the wording
has one home, domain.yml. A leaf module: it imports knowledge's types and settings, nothing of
bot/, actions/ or console/.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Sequence

import yaml

from knowledge.catalog.units import format_price
from knowledge.outbox.price_alerts import THRESHOLD_RULES, DuePriceMessage
from knowledge.prices.by_place import PlaceChoice
from knowledge.prices.queries import LatestPrice, PriceQuote
from settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
PUSH_HEADINGS = {"price_alert": "价格提醒", "daily_digest": "每日价格"}
UNSUBSCRIBE_HINT = "\n回复“取消订阅”可以停止提醒。"
UNCERTAIN_NOTICE = "以当地公示为准"


@lru_cache(maxsize=1)
def _responses() -> Dict[str, str]:
    data = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    return {name: variants[0]["text"] for name, variants in (data.get("responses") or {}).items()
            if variants and "text" in variants[0]}


def response_text(name: str, **values: Any) -> str:
    """The first text of domain.yml's response `name`, filled with `values` as Rasa fills it."""
    return _responses()[name].format(**values)


def describe_price(quote: PriceQuote) -> str:
    """"1.00–1.05元/斤" or "均价0.58元/斤（0.55–0.60）", as the source gave the figures."""
    low, average, high = quote.min_price, quote.avg_price, quote.max_price
    if average is not None:
        text = f"均价{format_price(average)}{quote.unit}"
        if low is not None and high is not None:
            text += f"（{format_price(low)}–{format_price(high)}）"
        return text
    if low is not None and high is not None:
        return f"{format_price(low)}–{format_price(high)}{quote.unit}"
    single = low if low is not None else high
    assert single is not None  # a price record has at least one figure (knowledge.prices.validation)
    return f"{format_price(single)}{quote.unit}"


def price_note(quote: PriceQuote) -> str:
    """The record's note, and a warning on an indicative (U) price that does not already carry one."""
    parts = []
    if quote.note:
        parts.append(f"备注：{quote.note}。")
    if quote.confidence == "U" and UNCERTAIN_NOTICE not in (quote.note or ""):
        parts.append(f"指示性价格，{UNCERTAIN_NOTICE}。")
    return "".join(parts)


def price_answer_values(answer: LatestPrice) -> Dict[str, str]:
    """The values of domain.yml's utter_price for this answer: product, scope, price, market, date, source, note."""
    quote = answer.quote
    return {
        "product": quote.product,
        "scope": f"（{answer.answered_region}）" if answer.answered_region else "",
        "price": describe_price(quote),
        "market": quote.market,
        "date": quote.report_date.isoformat(),
        "source": quote.source,
        "note": price_note(quote),
    }


def region_fallback_values(answer: LatestPrice) -> Dict[str, str]:
    """The values of utter_price_region_fallback: the region asked about and the wider one that answered."""
    return {"region": answer.requested_region or "", "product": answer.quote.product,
            "scope_name": answer.answered_region or "全国"}


def which_place_values(words: str, choices: Sequence[PlaceChoice]) -> Dict[str, str]:
    """The values of utter_which_place: the name the farmer typed and the places it may mean."""
    return {"place": words, "places": "、".join(choice.label for choice in choices)}


def price_push_text(message: DuePriceMessage, stale_after_days: int) -> str:
    """An alert or a daily digest: the price as a price answer words it, the threshold passed, its age, and how
    to stop."""
    heading = f"【{PUSH_HEADINGS[message.kind]}】"
    answer = message.answer
    if answer is None:
        return f"{heading}暂时没有{message.product}的价格数据，有了新数据会再告诉您。"
    quote = answer.quote
    text = heading
    if answer.fell_back:
        text += response_text("utter_price_region_fallback", **region_fallback_values(answer))
    text += response_text("utter_price", **price_answer_values(answer))
    if message.rule in THRESHOLD_RULES and message.threshold is not None:
        word = "高于" if message.rule == "above" else "低于"
        text += f"已{word}您设的{format_price(message.threshold)}元/斤。"
    if quote.age_days > stale_after_days:
        text += response_text("utter_price_stale", date=quote.report_date.isoformat(), days=quote.age_days)
    return text + UNSUBSCRIBE_HINT
