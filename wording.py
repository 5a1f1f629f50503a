"""How prices are worded for farmers, the same in an answer (actions) and in a pushed alert or digest (gateway).

The templates are domain.yml's responses, read once: an action sends "utter_price" with
price_answer_values(answer) and Rasa fills the template; an alert fills the same template with the
same values here. So a price reads the same whichever way it reaches the farmer, and the wording
has one home, domain.yml. A leaf module: it imports knowledge's types and settings, nothing of
bot/, actions/ or console/.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from knowledge.catalog.units import format_price
from knowledge.local_time import local_today
from knowledge.outbox.price_alerts import THRESHOLD_RULES, DuePriceMessage
from knowledge.prices.by_place import PlaceChoice
from knowledge.prices.queries import (
    LOCAL,
    NATIONAL,
    SEVERAL,
    Coverage,
    LatestPrice,
    MarketComparison,
    PlaceComparison,
    PlaceFigure,
    PriceQuote,
    PriceTrend,
    representative_price,
)
from settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
PUSH_HEADINGS = {"price_alert": "价格提醒", "daily_digest": "每日价格"}
UNSUBSCRIBE_HINT = "\n回复“取消订阅”可以停止提醒。"
UNCERTAIN_NOTICE = "以当地公示为准"
# The level of the region an answer comes from, said after its name: "河北省（省级）".
LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇级", "village": "村级"}
# What answers for the whole country when it is not a national figure.
ELSEWHERE = "其他地区"
MOVEMENT_WORDS = {"up": "涨了", "down": "跌了", "flat": "基本持平"}

# (response name, values) of one message; a list of them is one answer.
Message = Tuple[str, Dict[str, Any]]


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


def place_label(region: Optional[str], level: Optional[str], basis: str) -> str:
    """The place an answer covers, with its level: "河北省（省级）"; "全国" only for a national figure."""
    if region is None:
        return "全国" if basis == NATIONAL else ELSEWHERE
    level_name = LEVEL_NAMES.get(level or "")
    return f"{region}（{level_name}）" if level_name else region


def _day(date: dt.date, year: bool, month: bool = True) -> str:
    text = f"{date.month}月{date.day}日" if month else f"{date.day}日"
    return f"{date.year}年{text}" if year else text


def coverage_text(coverage: Coverage, today: Optional[dt.date] = None) -> str:
    """"3省5个市场，11月20日至28日" (one province is named: "河北省3个市场"); years only when not this year."""
    provinces = coverage.provinces
    where = (f"{provinces[0]}" if len(provinces) == 1 else f"{len(provinces)}省" if provinces else "")
    first, last = coverage.first_date, coverage.last_date
    this_year = (today or local_today()).year
    show_year = first.year != this_year or last.year != this_year
    if first == last:
        days = _day(last, show_year)
    else:
        other_year = first.year != last.year
        last_text = _day(last, show_year and other_year, other_year or first.month != last.month)
        days = f"{_day(first, show_year)}至{last_text}"
    return f"{where}{coverage.markets}个市场，{days}"


def _answered_on(quote: PriceQuote) -> dt.date:
    """The day the answer was given: its record's date plus its age."""
    return quote.report_date + dt.timedelta(days=quote.age_days)


def _scope_suffix(region: Optional[str], basis: str) -> str:
    if region:
        return f"（{region}）"
    return "（全国）" if basis == NATIONAL else ""


def price_answer_values(answer: LatestPrice) -> Dict[str, str]:
    """The values of domain.yml's utter_price, utter_price_local and utter_price_several for this answer: product,
    scope, price, market, date, source, note, and an aggregate's coverage."""
    quote = answer.quote
    return {
        "product": quote.product,
        "scope": _scope_suffix(answer.answered_region, answer.basis),
        "price": describe_price(quote),
        "market": quote.market,
        "date": quote.report_date.isoformat(),
        "source": quote.source,
        "note": price_note(quote),
        "coverage": coverage_text(answer.coverage, _answered_on(quote)) if answer.coverage is not None else "",
    }


def price_response(answer: LatestPrice) -> str:
    """Which response words this answer: a national or regional figure, one local market, or several markets."""
    return {SEVERAL: "utter_price_several", LOCAL: "utter_price_local"}.get(answer.basis, "utter_price")


def region_fallback_values(answer: Any) -> Dict[str, str]:
    """The values of utter_price_region_fallback: the region asked about and the wider one (with its level) that
    answered; "全国" only for a national figure. `answer` is a LatestPrice or a PriceTrend."""
    product = answer.quote.product if isinstance(answer, LatestPrice) else answer.product
    return {"region": answer.requested_region or "", "product": product,
            "scope_name": place_label(answer.answered_region, answer.answered_level, answer.basis)}


def price_messages(answer: LatestPrice) -> List[Message]:
    """The messages of a price answer: the wider region that answers when there is one, then the price."""
    messages: List[Message] = []
    if answer.fell_back:
        messages.append(("utter_price_region_fallback", region_fallback_values(answer)))
    messages.append((price_response(answer), price_answer_values(answer)))
    return messages


def _per(unit: str) -> str:
    return unit.split("/", 1)[1] if "/" in unit else unit


def trend_values(trend: PriceTrend) -> Dict[str, str]:
    """The values of utter_price_trend and utter_price_trend_single: the first and last day, up / down / flat
    with the change, the one market and whether it is local."""
    scope = _scope_suffix(trend.answered_region, trend.basis)
    change = trend.change
    movement = MOVEMENT_WORDS[trend.direction]
    if trend.direction != "flat":
        movement += f"{format_price(abs(change))}元/{_per(trend.unit)}"
        if trend.change_percent is not None:
            movement += f"（{abs(trend.change_percent)}%）"
    market = trend.market if trend.basis != LOCAL else f"{trend.market}一个市场的价格，仅供参考"
    return {
        "product": trend.product,
        "scope": scope,
        "first_date": trend.first.report_date.isoformat(),
        "first_price": f"{format_price(trend.first.price)}{trend.unit}",
        "last_date": trend.last.report_date.isoformat(),
        "last_price": f"{format_price(trend.last.price)}{trend.unit}",
        "date": trend.last.report_date.isoformat(),
        "price": f"{format_price(trend.last.price)}{trend.unit}",
        "movement": movement,
        "market": market,
        "source": trend.source,
    }


def _quote_line(quote: PriceQuote) -> str:
    return f"{quote.market} {describe_price(quote)}（{quote.report_date.isoformat()}）"


def comparison_values(comparison: MarketComparison, limit: int = 6) -> Dict[str, str]:
    """The values of utter_price_comparison: the markets of comparable date, highest and lowest when two or more
    can be compared, the national figure (or the markets' mean, said so) and the farmer's region."""
    unit = comparison.unit
    if comparison.highest is not None and comparison.lowest is not None:
        extremes = f"最高：{_quote_line(comparison.highest)}；最低：{_quote_line(comparison.lowest)}。"
    elif comparison.market_count:
        extremes = f"只有{comparison.market_count}个市场有相近日期的数据，比不出高低。"
    else:
        extremes = "还没有各地市场的数据，比不出哪里高哪里低。"
    reference = ""
    if comparison.national_price is not None:
        if comparison.national_is_national:
            reference = f"全国参考：{format_price(comparison.national_price)}{unit}（{comparison.national_basis}）。"
        elif comparison.market_count > 1:
            reference = f"多地平均：{format_price(comparison.national_price)}{unit}（不是全国数据）。"
    regional = ""
    if comparison.regional_price is not None:
        place = comparison.answered_region or comparison.requested_region
        regional = f"{place}平均{format_price(comparison.regional_price)}{unit}"
        if comparison.regional_vs_national_percent is not None:
            regional += f"，比全国{'高' if comparison.regional_vs_national_percent >= 0 else '低'}"
            regional += f"{abs(comparison.regional_vs_national_percent)}%"
        regional += "。"
    return {
        "product": comparison.product,
        "coverage": coverage_text(comparison.coverage) if comparison.coverage is not None else "只有全国数据",
        "lines": "\n" + "\n".join(_quote_line(quote) for quote in comparison.quotes[:limit]),
        "extremes": extremes,
        "reference": reference,
        "regional": regional,
    }


def _place_line(figure: PlaceFigure, unit: str) -> str:
    if figure.price is None or figure.coverage is None:
        return f"{figure.asked}：暂时没有数据"
    where = figure.asked
    if figure.fell_back:
        where += f"（没有本地数据，用{place_label(figure.answered_region, figure.answered_level, 'regional')}）"
    return f"{where}：均价{format_price(figure.price)}{unit}（{coverage_text(figure.coverage)}）"


def place_comparison_values(comparison: PlaceComparison) -> Dict[str, str]:
    """The values of utter_price_place_comparison: each place asked with its figure and coverage, and which is
    cheaper by how much, or why they cannot be compared."""
    unit = comparison.unit
    priced = [figure for figure in comparison.places if figure.price is not None]
    if comparison.cheapest is not None and comparison.dearest is not None:
        difference = comparison.difference or Decimal(0)
        if difference == 0:
            verdict = "几个地方价格一样。"
        else:
            verdict = (f"{comparison.cheapest.asked}便宜，每{_per(unit)}比{comparison.dearest.asked}"
                       f"低{format_price(difference)}元。")
    elif len(priced) < 2:
        have = "、".join(figure.asked for figure in priced)
        verdict = f"只有{have}有数据，没法比较。" if have else "这几个地方都还没有数据，没法比较。"
    else:
        verdict = "这几个地方的数据日期相差太远（或来自同一地区），没法直接比较，仅供参考。"
    return {
        "product": comparison.product,
        "lines": "\n" + "\n".join(_place_line(figure, unit) for figure in comparison.places),
        "verdict": verdict,
    }


def article_year_note(year: int, today: dt.date) -> str:
    """"这是2025年的标准，2026年的标准以当地公示为准。" for a year-bound article answered in a later year."""
    return f"这是{year}年的标准，{today.year}年的标准以当地公示为准。"


def alert_change_values(previous: PriceQuote, quote: PriceQuote) -> Dict[str, str]:
    """The values of utter_price_alert_change: the price before (with its date), and up / down / same by how much."""
    before = representative_price(previous.min_price, previous.avg_price, previous.max_price)
    now = representative_price(quote.min_price, quote.avg_price, quote.max_price)
    if before is None or now is None or before == now:
        change = "没有变"
    else:
        change = f"{'涨了' if now > before else '跌了'}{format_price(abs(now - before))}元"
    return {"previous_date": previous.report_date.isoformat(), "previous_price": describe_price(previous),
            "date": quote.report_date.isoformat(), "change": change}


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
    text = heading + "".join(response_text(name, **values) for name, values in price_messages(answer))
    previous = message.previous
    if message.kind == "price_alert" and previous is not None:
        text += response_text("utter_price_alert_change", **alert_change_values(previous, quote))
    if message.rule in THRESHOLD_RULES and message.threshold is not None:
        word = "高于" if message.rule == "above" else "低于"
        text += f"已{word}您设的{format_price(message.threshold)}元/斤。"
    if quote.age_days > stale_after_days:
        text += response_text("utter_price_stale", date=quote.report_date.isoformat(), days=quote.age_days)
    return text + UNSUBSCRIBE_HINT
