"""Pension estimate for 城乡居民基本养老保险: basic pension + personal account balance ÷ 139 (国发〔2014〕8号)."""
from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ask_for_feedback, latest_entity_values
from settings import load_settings

# National minimum basic pension in 元/人/月, by the year it took effect (facts.md §3.1).
NATIONAL_BASIC_PENSION = {2014: 70, 2018: 88, 2023: 103, 2024: 123, 2025: 143}
# The monthly account pension is the balance divided by 139 (国发〔2014〕8号).
ACCOUNT_DIVISOR = 139
MINIMUM_YEARS = 15
# Government subsidy on contributions: at least 30 元/年, at least 60 元/年 from the 500 元 tier up.
LOW_TIER_SUBSIDY, HIGH_TIER_SUBSIDY, HIGH_TIER_FROM = 30, 60, 500
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千)?")
_BALANCE_WORDS = ("账户", "余额", "攒了", "存了")


def parse_yuan(value: str) -> Optional[Decimal]:
    """"500" → 500, "2000块" → 2000, "3万" → 30000, "1.5千" → 1500; None when there is no number."""
    match = _NUMBER.search(value or "")
    if match is None:
        return None
    number = Decimal(match.group(1))
    multiplier = {"万": 10000, "千": 1000}.get(match.group(2) or "", 1)
    return number * multiplier


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
) -> Dict[str, str]:
    """Monthly pension from a yearly contribution and years, or from a known account balance, with assumptions."""
    basic, basic_year = basic_pension(year)
    assumptions = [f"基础养老金按{basic_year}年全国最低标准{basic}元/月，各省会再加"]
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


class ActionCalcPension(Action):
    """Estimates the monthly pension from what the farmer pays, or asks what that is."""

    def name(self) -> str:
        return "action_calc_pension"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        text = tracker.latest_message.get("text") or ""
        amounts = [value for value in map(parse_yuan, latest_entity_values(tracker, "amount")) if value]
        years_values = [value for value in map(parse_yuan, latest_entity_values(tracker, "years")) if value]
        years = int(years_values[0]) if years_values else None
        if not amounts:
            dispatcher.utter_message(response="utter_ask_pension_inputs")
            return []
        is_balance = any(word in text for word in _BALANCE_WORDS)
        values = estimate(
            contribution=None if is_balance else amounts[0],
            years=years,
            balance=amounts[0] if is_balance else None,
            year=dt.date.today().year,
            interest_percent=load_settings().pension_account_interest_percent,
        )
        dispatcher.utter_message(response="utter_pension_estimate", **values)
        ask_for_feedback(dispatcher, "pension-calc")
        return []
