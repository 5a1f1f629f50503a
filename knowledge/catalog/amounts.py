"""Farmers' numbers, read one way everywhere (NLU normaliser, pension calculator, price alerts, console).

Money as farmers write it: "1块2", "一块二", "两块五毛", "五毛五", "1.2元", "十块钱", "一千二", "两千一",
"一万块", "3万"; counts of years ("15年", "十五年"); and two-digit years read digit by digit ("二四年" is
2024). Plain numerals go through cn2an; this module adds what cn2an does not read: the yuan/jiao/fen
pattern, scaled digits ("3万", "1.5千") and years. jionlp's money parser was tried first and reads
"一千五" as 1005, "五毛五" as 5.50 and rejects "1块2", so it is not used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import List, Optional, Tuple

import cn2an

# Characters of a Chinese numeral, and the ones that are a single digit (a jiao or fen figure).
NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"
_DIGIT_VALUES = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                 "九": 9}
_ONE_DIGIT = "[0-9零〇一二两三四五六七八九]"
# A measure word after a figure makes it "per …" or a count of things, never the jiao of a price:
# "两块一斤" is 2 元 a 斤, not 2.1 元.
MEASURE_WORDS = "斤亩吨个只头袋箱筐车棵年月天日号岁点"
_NOT_BEFORE_MEASURE = f"(?![0-9]|公斤|千克|[{MEASURE_WORDS}])"
_WHOLE = rf"(?P<whole>\d+(?:\.\d+)?(?:[万千])?|[{NUMERAL_CHARS}]+(?:点[{NUMERAL_CHARS}]+)?)"
_MONEY = re.compile(
    # 2 or 3 figures after 块/元: "1块2", "1块15", "一块零五", "两块五毛五"
    rf"{_WHOLE}(?P<yuan>[块元圆])"
    rf"(?:(?P<frac_digits>\d{{1,2}}){_NOT_BEFORE_MEASURE}(?![毛角])"
    rf"|(?P<jiao>{_ONE_DIGIT}){_NOT_BEFORE_MEASURE}[毛角]?(?:(?P<fen>{_ONE_DIGIT}){_NOT_BEFORE_MEASURE}分?)?)?"
    # or jiao alone: "五毛", "五毛五", "两角"
    rf"|(?<![块元圆0-9{NUMERAL_CHARS}])(?P<jiao_only>{_ONE_DIGIT})[毛角]"
    rf"(?:(?P<fen_only>{_ONE_DIGIT}){_NOT_BEFORE_MEASURE}分?)?"
)
_SCALED_DIGITS = re.compile(r"(\d+(?:\.\d+)?)\s*([万千百])?")
_SCALE = {"万": Decimal(10000), "千": Decimal(1000), "百": Decimal(100)}
_BARE_NUMBER = re.compile(rf"\d+(?:\.\d+)?\s*[万千百]?|[{NUMERAL_CHARS}]+(?:点[{NUMERAL_CHARS}]+)?")
_YEARS = re.compile(rf"(\d+|[{NUMERAL_CHARS}]+)\s*年?")


@dataclass(frozen=True)
class Money:
    """An amount of money found in a text: where it is, its value in 元, and the yuan word used (块/元, or "")."""

    start: int
    end: int
    value: Decimal
    yuan_word: str

    @property
    def has_fraction(self) -> bool:
        """True for amounts with jiao or fen ("1块2", "五毛"), which plain numeral conversion would split."""
        return self.value != self.value.to_integral_value()


def _digit(char: Optional[str]) -> int:
    if not char:
        return 0
    return int(char) if char.isdigit() else _DIGIT_VALUES[char]


def numeral_value(text: str) -> Optional[Decimal]:
    """The value of one number as written: "500", "3万", "1.5千", "一千二" (1200), "两千一" (2100), "零点五"."""
    text = (text or "").strip()
    if not text:
        return None
    scaled = _SCALED_DIGITS.fullmatch(text)
    if scaled:
        return _tidy(Decimal(scaled.group(1)) * _SCALE.get(scaled.group(2) or "", Decimal(1)))
    if len(text) > 1 and all(char in _DIGIT_VALUES for char in text):
        return None  # "三四" is three or four, "二四" a year: neither is the cardinal 34 or 24 (三十四, 二十四)
    try:
        # "normal" mode reads the colloquial "一千二" as 1200 and "两千一" as 2100.
        return _tidy(Decimal(str(cn2an.cn2an(text, "normal"))))
    except (ValueError, KeyError, TypeError, IndexError, InvalidOperation):
        return None


def _tidy(value: Decimal) -> Decimal:
    # 1500.0 → 1500 and 1.20 → 1.2, so values compare and print as farmers wrote them.
    return Decimal(int(value)) if value == value.to_integral_value() else value.normalize()


def find_money(text: str) -> List[Money]:
    """Every amount of money with a yuan or jiao word in `text`, in order ("两块五毛" → 2.5, "五毛五" → 0.55)."""
    found: List[Money] = []
    for match in _MONEY.finditer(text or ""):
        if match.group("jiao_only"):
            value = Decimal(_digit(match.group("jiao_only"))) / 10 + Decimal(_digit(match.group("fen_only"))) / 100
            found.append(Money(match.start(), match.end(), value, ""))
            continue
        whole = numeral_value(match.group("whole"))
        if whole is None:
            continue
        if match.group("frac_digits"):
            digits = match.group("frac_digits")
            fraction = Decimal(digits) / (10 if len(digits) == 1 else 100)
        else:
            fraction = Decimal(_digit(match.group("jiao"))) / 10 + Decimal(_digit(match.group("fen"))) / 100
        found.append(Money(match.start(), match.end(), whole + fraction, match.group("yuan")))
    return found


def parse_money(words: str) -> Optional[Decimal]:
    """The first amount of money in `words` (an entity value or a whole message), in 元; None without a number.

    "1块2" → 1.2, "两块五毛" → 2.5, "1.2元" → 1.2, "一千二" → 1200, "3万" → 30000, "500" → 500.
    """
    words = words or ""
    money = find_money(words)
    bare = _first_bare_number(words)
    if money and (bare is None or money[0].start <= bare[0]):
        return money[0].value
    return bare[1] if bare else None


def _first_bare_number(words: str) -> Optional[Tuple[int, Decimal]]:
    for match in _BARE_NUMBER.finditer(words):
        run = split_trailing_article(match.group().replace(" ", ""))[0]
        value = numeral_value(run)
        if value is not None:
            return match.start(), value
    return None


def split_numeral_run(run: str) -> List[str]:
    """A run of numerals as the numbers it holds: "五百十五" → ["五百", "十五"] (515 is 五百一十五, so this is 500
    then 15, as in "交五百十五年"); any other run stays whole."""
    match = re.fullmatch(f"([{NUMERAL_CHARS}]*[百千])(十[{NUMERAL_CHARS}]*)", run)
    if match and numeral_value(match.group(1)) is not None and numeral_value(match.group(2)) is not None:
        return [match.group(1), match.group(2)]
    return [run]


def split_trailing_article(run: str) -> Tuple[str, str]:
    """("两千一", "一") for "两千一一": a colloquial number ("两千一") run into the 一 of "一年" or "一亩".

    A run cn2an reads as it stands ("十一") is left whole.
    """
    if len(run) > 2 and run.endswith("一") and numeral_value(run) is None and numeral_value(run[:-1]) is not None:
        return run[:-1], "一"
    return run, ""


def number_spans(text: str) -> List[Money]:
    """Every number in `text` with where it is: amounts of money whole ("1块2"), then bare figures and numerals."""
    spans = find_money(text)
    for match in _BARE_NUMBER.finditer(text or ""):
        if any(match.start() < money.end and money.start < match.end() for money in spans):
            continue
        value = numeral_value(match.group().replace(" ", ""))
        if value is not None:
            spans.append(Money(match.start(), match.end(), value, ""))
    return sorted(spans, key=lambda money: money.start)


def parse_years(words: str) -> Optional[int]:
    """A count of years: "15年", "十五年", "二十五" → 25; None when `words` holds no whole number."""
    match = _YEARS.search(words or "")
    if match is None:
        return None
    value = numeral_value(match.group(1))
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def digit_read_year(run: str, this_year: int) -> Optional[int]:
    """A year written digit by digit: "二四" → 2024, "一九" → 2019, "九八" → 1998, "二零二四" → 2024; else None.

    Only runs of plain digits (no 十/百/千) of two or four characters; two digits are the nearest year
    not later than next year, and must start with 零, 一, 二 or 九 ("三四年" is three or four years).
    """
    if len(run) not in (2, 4) or any(char not in _DIGIT_VALUES or char == "两" for char in run):
        return None
    if len(run) == 2 and run[0] not in "零〇一二九":
        return None
    number = int("".join(str(_DIGIT_VALUES[char]) for char in run))
    if len(run) == 4:
        return number
    century = this_year - this_year % 100
    return century + number if century + number <= this_year + 1 else century - 100 + number


def format_amount(value: Decimal) -> str:
    """A value as short digits: 1.20 → "1.2", 10000.00 → "10000", 0.55 → "0.55"."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
