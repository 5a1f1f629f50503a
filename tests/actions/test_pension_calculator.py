"""Pension estimate: basic pension + account balance ÷ 139, with the assumptions stated."""
import json
from decimal import Decimal

import pytest

from actions.pension_calculator import ActionCalcPension, basic_pension, estimate
from tests.actions.conftest import make_tracker, message, responses, run_action, slots_set


@pytest.mark.parametrize(("year", "basic"), [(2013, 70), (2014, 70), (2024, 123), (2025, 143), (2026, 143)])
def test_basic_pension_by_year(year, basic) -> None:
    assert basic_pension(year)[0] == basic


def test_estimate_500_for_15_years() -> None:
    # (500 + 60 subsidy) × 15 = 8400; 8400 / 139 = 60.43; + 143 = 203.43
    result = estimate(Decimal(500), 15, None, 2025)
    assert result["balance"] == "8400"
    assert result["account_part"] == "60.43"
    assert result["total"] == "203.43"
    assert "143" in result["assumptions"] and "60元" in result["assumptions"]


def test_estimate_from_balance() -> None:
    result = estimate(None, None, Decimal(13900), 2025)
    assert result["account_part"] == "100" and result["total"] == "243"


def test_configured_interest_compounds_the_account_and_is_stated() -> None:
    # 560 a year for 15 years at 2%: 560 × (1.02^15 − 1) / 0.02 = 9684.31; / 139 = 69.67; + 143 = 212.67
    result = estimate(Decimal(500), 15, None, 2025, interest_percent=Decimal(2))
    assert result["balance"] == "9684.31"
    assert result["total"] == "212.67"
    assert "年利率2%复利" in result["assumptions"] and "不计利息" not in result["assumptions"]


async def test_the_action_reads_the_interest_setting(environment) -> None:
    environment(PENSION_ACCOUNT_INTEREST_PERCENT="1.5")
    tracker = make_tracker("calc_pension", [("amount", "500"), ("years", "15")], text="交500交15年能领多少")
    dispatcher, _events = await run_action(ActionCalcPension(), tracker)
    assert "年利率1.5%复利" in message(dispatcher, "utter_pension_estimate")["assumptions"]


def test_missing_years_assumes_fifteen() -> None:
    assert "15年" in estimate(Decimal(200), None, None, 2025)["assumptions"]


@pytest.mark.parametrize(
    ("entities", "text", "expected"),
    [
        ([], "算一下我的养老金", ["utter_ask_pension_inputs"]),
        ([("amount", "500"), ("years", "15")], "交500交15年能领多少", ["utter_pension_estimate", "utter_feedback"]),
        ([("amount", "30000")], "个人账户有30000一个月领多少", ["utter_pension_estimate", "utter_feedback"]),
    ],
)
async def test_calc_pension_action(entities, text, expected) -> None:
    dispatcher, events = await run_action(ActionCalcPension(), make_tracker("calc_pension", entities, text=text))
    assert responses(dispatcher) == expected
    assert slots_set(events)["topic"] == "pension_calc"  # the next message may change one input
    if "utter_pension_estimate" in expected:
        assumptions = message(dispatcher, "utter_pension_estimate")["assumptions"]
        # Interest is left out unless configured; a balance the farmer names is taken as it is.
        assert ("账户余额按您说的30000元算" if "账户" in text else "不计利息") in assumptions


# Phrasings of the calculator's inputs, as the NLU normaliser passes them on, with and without entities.
# Expected totals at today's basic pension are checked through the account balance, which does not change.
@pytest.mark.parametrize(
    ("text", "entities", "balance", "years_text"),
    [
        ("1200一年 交20年", [], "25200", "交20年"),  # (1200 + 60) × 20
        ("一年1200块 要交15年 每月领多少", [("amount", "1200块"), ("years", "15年")], "18900", "交15年"),
        ("交最低档 交够15年", [], "1950", "交15年"),  # (100 + 30) × 15
        ("交最低的档 交满15年 能领多少", [], "1950", "交15年"),
        ("最高档交15年每月多少", [], "30900", "交15年"),  # (2000 + 60) × 15
        ("2100一年交15年 一个月领几个", [], "32400", "交15年"),
        ("交500 15年能领多少", [], "8400", "交15年"),
        ("58岁 每年交500 交15年", [("amount", "58")], "8400", "交15年"),
        ("每年交200 交20年", [("amount", "200"), ("years", "20")], "4600", "交20年"),
    ],
)
async def test_contributions_as_farmers_write_them(text, entities, balance, years_text) -> None:
    dispatcher, _ = await run_action(ActionCalcPension(), make_tracker("calc_pension", entities, text=text))
    estimate_values = message(dispatcher, "utter_pension_estimate")
    assert estimate_values["balance"] == balance
    assert years_text in estimate_values["assumptions"]


@pytest.mark.parametrize(
    ("text", "entities", "balance"),
    [
        ("个人账户有8000块 每月发多少", [], "8000"),
        ("账户上有9000块 每个月发多少", [("amount", "9000块")], "9000"),
        ("15000的个人账户每月领多少", [], "15000"),
        ("个人账户有3万一个月领多少", [("amount", "3万")], "30000"),
    ],
)
async def test_account_balances_as_farmers_write_them(text, entities, balance) -> None:
    dispatcher, _ = await run_action(ActionCalcPension(), make_tracker("calc_pension", entities, text=text))
    assert message(dispatcher, "utter_pension_estimate")["balance"] == balance


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("新农合19年交多少钱", [("amount", "19")]),  # a year, not a contribution of 19 元
        ("合作医疗2018年交多少钱", [("amount", "2018")]),
        ("养老金能领多少", []),
    ],
)
async def test_years_and_questions_without_figures_are_not_calculated(text, entities) -> None:
    dispatcher, _ = await run_action(ActionCalcPension(), make_tracker("calc_pension", entities, text=text))
    assert responses(dispatcher) == ["utter_ask_pension_inputs"]


async def test_a_tier_word_is_stated_as_an_assumption() -> None:
    dispatcher, _ = await run_action(ActionCalcPension(), make_tracker("calc_pension", [], text="交最低档交15年"))
    assert "“最低档”按全国标准的100元档算" in message(dispatcher, "utter_pension_estimate")["assumptions"]


def _after(inputs: dict, text: str, entities=()) -> object:
    """A follow-up message right after an estimate made from `inputs`."""
    return make_tracker("inform", list(entities), text=text,
                        slots={"topic": "pension_calc", "pension_inputs": json.dumps(inputs)})


@pytest.mark.parametrize(
    ("before", "text", "total"),
    [
        # 600 a year, 15 years → 20 years: (600 + 60) × 20 / 139 + 143 = 237.96
        ({"contribution": "600", "years": 15, "balance": None, "tier_word": ""}, "要是缴20年呢", "237.96"),
        # 1000 a year, 15 years → 2000 a year: (2000 + 60) × 15 / 139 + 143 = 365.30
        ({"contribution": "1000", "years": 15, "balance": None, "tier_word": ""}, "改成每年2000呢", "365.3"),
        # a balance of 20000 → 30000: 30000 / 139 + 143 = 358.83
        ({"contribution": None, "years": None, "balance": "20000", "tier_word": ""}, "30000呢", "358.83"),
        # the 800 tier for 18 years → the 1500 tier: (1500 + 60) × 18 / 139 + 143 = 345.01
        ({"contribution": "800", "years": 18, "balance": None, "tier_word": ""}, "换成1500的档呢", "345.01"),
    ],
)
async def test_a_follow_up_changes_one_input_of_the_estimate_before(before, text, total) -> None:
    dispatcher, events = await run_action(ActionCalcPension(), _after(before, text))
    assert message(dispatcher, "utter_pension_estimate")["total"] == total
    assert json.loads(slots_set(events)["pension_inputs"])["contribution" if before["contribution"] else "balance"]


async def test_inputs_given_after_the_calculator_asked_are_joined_with_those_before() -> None:
    # "交20年能领多少" names no contribution: the calculator asks, and keeps the 20 years for the answer.
    dispatcher, events = await run_action(ActionCalcPension(), make_tracker("calc_pension", text="交20年能领多少"))
    assert responses(dispatcher) == ["utter_ask_pension_inputs"]
    dispatcher, _ = await run_action(ActionCalcPension(), _after(json.loads(slots_set(events)["pension_inputs"]),
                                                                 "每年500"))
    assert "交20年" in message(dispatcher, "utter_pension_estimate")["assumptions"]


async def test_without_an_estimate_before_nothing_is_carried_over() -> None:
    tracker = make_tracker("inform", text="要是缴20年呢", slots={"topic": "price", "pension_inputs": json.dumps(
        {"contribution": "600", "years": 15, "balance": None, "tier_word": ""})})
    dispatcher, _ = await run_action(ActionCalcPension(), tracker)
    assert responses(dispatcher) == ["utter_ask_pension_inputs"]
