"""Farmers' numbers (knowledge.catalog.amounts): a reference table from the domain facts, and properties
over every yuan/jiao/fen written the ways farmers write it."""
from decimal import Decimal

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.catalog.amounts import (
    digit_read_year,
    find_money,
    format_amount,
    parse_money,
    parse_years,
    split_numeral_run,
)

# Written as in ../shared/domain/facts.md: market prices in 元/斤, contribution tiers, balances, years.
MONEY_TABLE = [
    ("1块2", "1.2"),
    ("一块二", "1.2"),
    ("两块五毛", "2.5"),
    ("1.2元", "1.2"),
    ("1.18元", "1.18"),
    ("一块一毛八", "1.18"),
    ("1块19", "1.19"),
    ("五毛八", "0.58"),
    ("5毛8分", "0.58"),
    ("三块四", "3.4"),
    ("两块八", "2.8"),
    ("十一块四毛四", "11.44"),
    ("一块零五", "1.05"),
    ("两毛", "0.2"),
    ("一千五", "1500"),
    ("两千一", "2100"),
    ("一千二", "1200"),
    ("一千二百块", "1200"),
    ("一万块", "10000"),
    ("八千块", "8000"),
    ("一万五", "15000"),
    ("3万", "30000"),
    ("1.5千", "1500"),
    ("两百", "200"),
    ("500", "500"),
    ("交500", "500"),
    ("十块钱", "10"),
    ("七十八块一毛一", "78.11"),
    ("一百一十九元", "119"),
]


@pytest.mark.parametrize(("words", "value"), MONEY_TABLE)
def test_reference_table_of_money(words: str, value: str) -> None:
    assert parse_money(words) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("两块一斤", "2"),  # 2 元 a 斤, not 2.1 元
        ("两块五一斤", "2.5"),
        ("1块2一公斤", "1.2"),
        ("涨到1块2提醒我", "1.2"),
        ("跌破五毛钱告诉我", "0.5"),
        ("1块234", "1"),  # three figures after 块 are not jiao and fen
    ],
)
def test_money_stops_where_the_price_ends(text: str, value: str) -> None:
    assert parse_money(text) == Decimal(value)


def test_no_number_is_none() -> None:
    assert parse_money("玉米多少钱") is None
    assert parse_years("交多少年") is None


@pytest.mark.parametrize(("words", "years"), [("15年", 15), ("十五年", 15), ("二十五", 25), ("交够十五年", 15),
                                              ("30", 30)])
def test_years(words: str, years: int) -> None:
    assert parse_years(words) == years


@pytest.mark.parametrize(("run", "year"), [("二四", 2024), ("一八", 2018), ("二五", 2025), ("九八", 1998),
                                           ("二零二三", 2023), ("三四", None), ("十五", None), ("两三", None)])
def test_years_read_digit_by_digit(run: str, year) -> None:
    assert digit_read_year(run, this_year=2026) == year


def test_a_hundreds_run_into_tens_is_two_numbers() -> None:
    assert split_numeral_run("五百十五") == ["五百", "十五"]
    assert split_numeral_run("五百一十五") == ["五百一十五"]


def _chinese(number: int, colloquial_two: bool) -> str:
    written = cn2an.an2cn(number)
    # 两 for a leading 2 of 百, 千, 万 or a lone 2 ("两千", "两块"), never of 十 ("二十").
    says_liang = written == "二" or written[:2] in ("二百", "二千", "二万")
    return "两" + written[1:] if colloquial_two and says_liang else written


_DIGITS = "零一二三四五六七八九"
yuan = st.integers(min_value=0, max_value=9999)
jiao = st.integers(min_value=0, max_value=9)
fen = st.integers(min_value=0, max_value=9)


@given(yuan, jiao, fen, st.booleans())
def test_every_yuan_jiao_fen_parses_back_from_its_written_forms(y: int, j: int, f: int, two: bool) -> None:
    expected = Decimal(y) + Decimal(j) / 10 + Decimal(f) / 100
    forms = [f"{y}.{j}{f}元", f"{y}块{j}{f}"]
    if y:
        forms.append(f"{_chinese(y, two)}块{_DIGITS[j]}毛{_DIGITS[f]}")
        forms.append(f"{_chinese(y, two)}元{_DIGITS[j]}角{_DIGITS[f]}分")
        if f == 0:
            forms += [f"{y}块{j}", f"{_chinese(y, two)}块{_DIGITS[j]}"]
        if j == 0 and f:
            forms.append(f"{_chinese(y, two)}块零{_DIGITS[f]}")
    elif j:
        forms.append(f"{_DIGITS[j]}毛{_DIGITS[f]}" if f else f"{_DIGITS[j]}毛")
    for form in forms:
        for text in (form, f"涨到{form}提醒我", f"{form}一斤"):
            assert parse_money(text) == expected, text


@given(st.integers(min_value=1, max_value=99_999), st.booleans())
def test_every_whole_amount_in_words_parses_back(amount: int, two: bool) -> None:
    for form in (_chinese(amount, two), f"{_chinese(amount, two)}块", f"{amount}块钱", str(amount)):
        assert parse_money(form) == amount, form


@given(st.integers(min_value=1, max_value=9), st.integers(min_value=1, max_value=9), st.sampled_from(["千", "万"]))
def test_colloquial_thousands_parse_back(lead: int, next_digit: int, scale: str) -> None:
    # "一千二" is 1200 and "两万五" is 25000: the figure after the scale is the next place down.
    unit = 1000 if scale == "千" else 10000
    written = f"{_chinese(lead, True)}{scale}{_DIGITS[next_digit]}"
    assert parse_money(written) == lead * unit + next_digit * unit // 10


@given(yuan, jiao, fen)
def test_found_money_spans_the_whole_amount(y: int, j: int, f: int) -> None:
    written = f"{_chinese(y, False)}块{_DIGITS[j]}毛{_DIGITS[f]}"
    text = f"玉米涨到{written}提醒我"
    [money] = find_money(text)
    assert text[money.start:money.end] == written


@pytest.mark.parametrize(("value", "text"), [("1.20", "1.2"), ("10000.00", "10000"), ("0.55", "0.55"), ("3", "3")])
def test_format_amount(value: str, text: str) -> None:
    assert format_amount(Decimal(value)) == text
