"""Pension estimate for 城乡居民基本养老保险: basic pension + personal account balance ÷ 139 (国发〔2014〕8号)."""
from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback, latest_entity_values
from actions.follow_ups import last_topic, remember
from knowledge.catalog.amounts import NUMERAL_CHARS, find_money, format_amount, parse_money, parse_years
from knowledge.local_time import local_today
from settings import load_settings

# National minimum basic pension in 元/人/月, by the year it took effect (facts.md §3.1).
NATIONAL_BASIC_PENSION = {2014: 70, 2018: 88, 2023: 103, 2024: 123, 2025: 143}
# The monthly account pension is the balance divided by 139 (国发〔2014〕8号).
ACCOUNT_DIVISOR = 139
MINIMUM_YEARS = 15
# Government subsidy on contributions: at least 30 元/年, at least 60 元/年 from the 500 元 tier up.
LOW_TIER_SUBSIDY, HIGH_TIER_SUBSIDY, HIGH_TIER_FROM = 30, 60, 500
# Yearly contribution tiers of the national template, 元/年 (facts.md §3.1); provinces may add higher ones.
CONTRIBUTION_TIERS = (100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000)
# The longest a resident can pay: from 16 to 60.
MAXIMUM_YEARS = 44
_BALANCE_WORDS = ("账户", "余额", "攒了", "存了")
_LOWEST_TIER = re.compile(r"最(?:低|少|便宜)(?:的|一)?个?档")
_HIGHEST_TIER = re.compile(r"最(?:高|多)(?:的|一)?个?档")
# "交够15年", "交满十五年", "缴了20年": a count of years after a paying word.
_YEARS_PAID = re.compile(rf"(?:交|缴|满|够|了|续|到)\s*(\d{{1,2}}|[{NUMERAL_CHARS}]+)\s*年")
# A bare figure that is not a count of years, an age or a month ("交500", "一年1200").
_BARE_FIGURE = re.compile(r"(\d+(?:\.\d+)?\s*[万千]?)(?!\d|\.\d|\s*[年岁月号点])")


def _is_a_year(text: str, value: Decimal) -> bool:
    """"新农合2019年" or "19年": the figure is a year the farmer names, not money."""
    return value == value.to_integral_value() and f"{format_amount(value)}年" in text.replace(" ", "")


def contribution_or_balance(text: str, amount_words: List[str]) -> Tuple[Optional[Decimal], str]:
    """The money the farmer names (yearly contribution or account balance), and the tier word it came from, if any.

    The amount entities first, then amounts of money in the text, a tier word ("最低档"), a bare figure;
    figures under the lowest tier (100 元) and years ("新农合19年") are not contributions.
    """
    candidates = [value for value in map(parse_money, amount_words) if value is not None]
    candidates += [money.value for money in find_money(text)]
    for value in candidates:
        if value >= CONTRIBUTION_TIERS[0] and not _is_a_year(text, value):
            return value, ""
    lowest, highest = _LOWEST_TIER.search(text), _HIGHEST_TIER.search(text)
    if lowest is not None:
        return Decimal(CONTRIBUTION_TIERS[0]), lowest.group()
    if highest is not None:
        return Decimal(CONTRIBUTION_TIERS[-1]), highest.group()
    for match in _BARE_FIGURE.finditer(text):
        figure = parse_money(match.group(1))
        if figure is not None and figure >= CONTRIBUTION_TIERS[0] and not _is_a_year(text, figure):
            return figure, ""
    return None, ""


def years_paid(text: str, years_words: List[str]) -> Optional[int]:
    """How many years the farmer pays: the years entities first, then "交够15年"-style words in the text."""
    candidates = [parse_years(words) for words in years_words]
    candidates += [parse_years(match.group(1)) for match in _YEARS_PAID.finditer(text)]
    return next((years for years in candidates if years and 0 < years <= MAXIMUM_YEARS), None)


def basic_pension(year: int) -> Tuple[int, int]:
    """The national minimum basic pension in force in `year`, and the year it was set."""
    known = [set_in for set_in in NATIONAL_BASIC_PENSION if set_in <= year] or [min(NATIONAL_BASIC_PENSION)]
    set_in = max(known)
    return NATIONAL_BASIC_PENSION[set_in], set_in


def subsidy_for(contribution: Decimal) -> int:
    """The minimum government subsidy a yearly contribution of this tier earns."""
    return HIGH_TIER_SUBSIDY if contribution >= HIGH_TIER_FROM else LOW_TIER_SUBSIDY


def _yuan(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)).rstrip("0").rstrip(".")


def account_balance(yearly: Decimal, years: int, interest_percent: Decimal) -> Decimal:
    """The account after `years` yearly payments of `yearly`, each earning compound interest from the next year."""
    if interest_percent <= 0:
        return yearly * years
    growth = 1 + interest_percent / 100
    return yearly * (growth**years - 1) / (growth - 1)


def estimate(
    contribution: Optional[Decimal],
    years: Optional[int],
    balance: Optional[Decimal],
    year: int,
    interest_percent: Decimal = Decimal(0),
    tier_word: str = "",
) -> Dict[str, str]:
    """Monthly pension from a yearly contribution and years, or from a known account balance, with assumptions."""
    basic, basic_year = basic_pension(year)
    assumptions = [f"基础养老金按{basic_year}年全国最低标准{basic}元/月，各省会再加"]
    if tier_word and contribution is not None:
        assumptions.append(f"“{tier_word}”按全国标准的{_yuan(contribution)}元档算，各省档次以当地为准")
    if balance is None:
        assert contribution is not None
        if years is None:
            years = MINIMUM_YEARS
            assumptions.append(f"没说交几年，按最少{MINIMUM_YEARS}年算")
        subsidy = subsidy_for(contribution)
        balance = account_balance(contribution + subsidy, years, interest_percent)
        assumptions.append(
            f"每年交{_yuan(contribution)}元，政府补贴按该档最低{subsidy}元/年，交{years}年，账户{_yuan(balance)}元"
        )
        if years < MINIMUM_YEARS:
            assumptions.append(f"交满{MINIMUM_YEARS}年才能按月领取，不足的可按当地规定补缴")
        if interest_percent > 0:
            assumptions.append(f"账户按年利率{_yuan(interest_percent)}%复利记息（实际利率按当地规定）")
        else:
            assumptions.append("不计利息（实际账户会按规定记息，领得会多一些）")
    else:
        assumptions.append(f"账户余额按您说的{_yuan(balance)}元算")
    assumptions.append("60岁开始领取")
    account_part = balance / ACCOUNT_DIVISOR
    return {
        "total": _yuan(basic + account_part),
        "basic": str(basic),
        "account_part": _yuan(account_part),
        "balance": _yuan(balance),
        "assumptions": "；".join(assumptions) + "。",
    }


# A follow-up that names only money ("三万呢") after an estimate from a balance means another balance;
# with one of these words it is a yearly contribution again ("改成每年两千呢", "换成1500的档呢").
_CONTRIBUTION_WORDS = ("每年", "一年", "档", "交", "缴")


def _inputs_before(tracker: Tracker) -> Dict[str, Any]:
    """The calculator's inputs of the estimate just given (or of the question it asked), if that came last."""
    if last_topic(tracker) != "pension_calc":
        return {}
    try:
        inputs = json.loads(tracker.get_slot("pension_inputs") or "{}")
    except ValueError:
        return {}
    return inputs if isinstance(inputs, dict) else {}


def calculator_inputs(text: str, amount_words: List[str], years_words: List[str],
                      before: Dict[str, Any]) -> Dict[str, Any]:
    """Contribution or balance, years and tier word from this message, the rest from the estimate before.

    "那交二十五年呢" changes the years only, "改成每年两千呢" the contribution, "三万呢" after a balance
    the balance."""
    amount, tier_word = contribution_or_balance(text, amount_words)
    years = years_paid(text, years_words)
    was_balance = before.get("balance") is not None
    if amount is not None:
        says_balance = not tier_word and any(word in text for word in _BALANCE_WORDS)
        says_contribution = bool(tier_word) or any(word in text for word in _CONTRIBUTION_WORDS)
        is_balance = says_balance or (was_balance and not says_contribution and years is None)
    else:
        is_balance = was_balance and years is None
        known = before.get("balance") if is_balance else before.get("contribution")
        amount = Decimal(str(known)) if known is not None else None
        tier_word = "" if is_balance else str(before.get("tier_word") or "")
    if years is None and not is_balance and before.get("years") is not None:
        years = int(before["years"])
    return {
        "contribution": None if is_balance or amount is None else str(amount),
        "balance": str(amount) if is_balance and amount is not None else None,
        "years": None if is_balance else years,
        "tier_word": tier_word,
    }


class ActionCalcPension(Action):
    """Estimates the monthly pension from what the farmer pays, or asks what that is; a follow-up
    ("那交二十五年呢") changes one input of the estimate before."""

    def name(self) -> str:
        return "action_calc_pension"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        inputs = calculator_inputs(text, latest_entity_values(tracker, "amount"),
                                   latest_entity_values(tracker, "years"), _inputs_before(tracker))
        remembered = remember(topic="pension_calc", pension_inputs=json.dumps(inputs, ensure_ascii=False))
        if inputs["contribution"] is None and inputs["balance"] is None:
            dispatcher.utter_message(response="utter_ask_pension_inputs")
            return remembered
        values = estimate(
            contribution=Decimal(inputs["contribution"]) if inputs["contribution"] is not None else None,
            years=inputs["years"],
            balance=Decimal(inputs["balance"]) if inputs["balance"] is not None else None,
            year=local_today().year,
            interest_percent=load_settings().pension_account_interest_percent,
            tier_word=inputs["tier_word"],
        )
        dispatcher.utter_message(response="utter_pension_estimate", **values)
        ask_for_feedback(dispatcher, "pension-calc")
        return remembered
