"""Normalise what farmers type before tokenisation: traditional → simplified, full-width → half-width,
product emoji → their names ("🌽" → 玉米), markup removed ("<b>", "<script>…</script>"), farmers'
numbers → digits where they are amounts or years ("一块二" → 1.2块, "十五年" → 15年, "二四年" → 2024年,
through knowledge.catalog.amounts), other emoji and stray whitespace removed. "一亩", "两斤" stay words.

Every step keeps a map from each output character back to the input, so entity spans annotated on
the raw training text can be moved onto the normalised text.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional, Tuple

from knowledge.catalog.amounts import (
    NUMERAL_CHARS,
    digit_read_year,
    find_money,
    format_amount,
    numeral_value,
    split_numeral_run,
    split_trailing_article,
)
from knowledge.catalog.emoji import emoji_word
from nlu.simplified import to_simplified

_NUMERAL_RUN = re.compile(f"[{NUMERAL_CHARS}]+(?:点[{NUMERAL_CHARS}]+)?")
# A numeral run is a quantity when a unit follows or a paying verb precedes it ("交五百", "十五年").
_UNIT_AFTER = re.compile(r"^(?:块|元|年|岁|个月|月份|月|号|日|天|毛|角|档|万|千|百)")
_VERB_BEFORE = re.compile(r"(?:交|缴|存|领|拿|花|付|补|给|是|有|到|了|满|年|每年|一年)$")
# Verbs that make "N年" a count of years ("交了二三年"), not a year read digit by digit ("新农合二四年").
_YEARS_COUNT_BEFORE = re.compile(r"(?:交|缴|了|满|够|续|再|补|共|当|干|种)$")
# Land and goods are counted in these: "一亩", "两斤" stay words, so search finds "粮补一亩多少钱".
_COUNTED_THINGS_AFTER = re.compile(r"^(?:亩|斤|公斤|千克|吨|头|只|个|棵|袋|箱)")
# Variation selectors and joiners inside an emoji ("🌶️").
_INVISIBLE = "\ufe0e\ufe0f\u200d"
# Words in which numerals are not numbers at all.
_IDIOMS = ("一下", "一些", "一点儿", "一起", "一直", "一定", "一样", "一般", "万一", "一个人", "十分", "一会")


@dataclass(frozen=True)
class Normalised:
    """Normalised text and, for each of its characters, the index of the input character it came from."""

    text: str
    origins: Tuple[int, ...]

    def span(self, start: int, end: int) -> Tuple[int, int]:
        """Where the input span [start, end) lies in the normalised text."""
        new_start = next((i for i, origin in enumerate(self.origins) if origin >= start), len(self.text))
        new_end = next((i for i, origin in enumerate(self.origins) if origin >= end), len(self.text))
        return new_start, max(new_start, new_end)


def _is_dropped(char: str) -> bool:
    category = unicodedata.category(char)
    # So: symbols such as emoji; Cc/Cf: control and format characters (zero-width joiners).
    return category in ("So", "Cc", "Cf", "Sk") or 0x1F000 <= ord(char) <= 0x1FAFF or char in _INVISIBLE


def _emoji_product(text: str, index: int) -> Optional[str]:
    """The product word for the emoji at text[index]; None for other characters and for repeats ("🌽🌽" is one 玉米)."""
    emoji = text[index]
    if emoji_word(emoji, None) is None:
        return None
    previous = index - 1
    while previous >= 0 and text[previous] in _INVISIBLE:
        previous -= 1
    if previous >= 0 and text[previous] == emoji:
        return None
    following = index + 1
    while following < len(text) and (text[following] in _INVISIBLE or text[following] == emoji):
        following += 1
    return emoji_word(emoji, text[following] if following < len(text) else None)


def _half_width(char: str) -> str:
    code = ord(char)
    if code == 0x3000:
        return " "
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    return char


def _to_simplified(text: str) -> str:
    converted = to_simplified(text)
    if len(converted) == len(text):
        return converted
    # Phrase conversion changed the length: convert one character at a time to keep the map 1:1.
    return "".join(to_simplified(char) for char in text)


def _numeral_replacement(text: str, start: int, end: int, this_year: int) -> Tuple[int, Optional[str]]:
    """(end of the number, its digits or None to keep it) for the numeral run text[start:end]."""
    run = text[start:end]
    head, article = split_trailing_article(run)
    if article and (_COUNTED_THINGS_AFTER.match(text[end:]) or text.startswith("年", end)):
        run, end = head, end - 1  # "两千一一年": 2100 for 一年
    before, after = text[:start], text[end:]
    if any(text.startswith(idiom, start) or text[max(0, start - 1):].startswith(idiom) for idiom in _IDIOMS):
        return end, None
    if _COUNTED_THINGS_AFTER.match(after):
        return end, None
    year = digit_read_year(run, this_year) if after.startswith("年") else None
    if year is not None and not _YEARS_COUNT_BEFORE.search(before):
        return end, str(year)
    paid = bool(_VERB_BEFORE.search(before))
    # A lone 一 is an article more often than a number ("一年交"): keep it unless paid.
    is_quantity = paid or (run != "一" and (bool(_UNIT_AFTER.match(after)) or len(run) >= 2))
    if not is_quantity:
        return end, None
    value = numeral_value(run)
    return end, None if value is None else format_amount(value)


def _convert_numbers(text: str, origins: List[int]) -> Tuple[str, List[int]]:
    # Amounts with jiao or fen first ("1块2" → "1.2块"), so they stay one number; then numeral runs.
    replacements: List[Tuple[int, int, str]] = [
        (money.start, money.end, format_amount(money.value) + (money.yuan_word or "元"))
        for money in find_money(text) if money.has_fraction
    ]
    taken = [(start, end) for start, end, _ in replacements]
    this_year = dt.date.today().year
    for match in _NUMERAL_RUN.finditer(text):
        if any(match.start() < taken_end and taken_start < match.end() for taken_start, taken_end in taken):
            continue
        run = match.group()
        if run.endswith("千") and text.startswith("克", match.end()):
            run = run[:-1]  # "一千克" is one 千克 (a kilogram), not 1000 克: the unit stays a word
        if not run:
            continue
        start, previous_replaced = match.start(), False
        for part in split_numeral_run(run):
            end, replacement = _numeral_replacement(text, start, start + len(part), this_year)
            if replacement is not None:
                # "五百十五年" → "500 15年": two numbers must not run together into one.
                replacements.append((start, end, (" " if previous_replaced else "") + replacement))
            previous_replaced = replacement is not None
            start += len(part)
    out: List[str] = []
    out_origins: List[int] = []
    position = 0
    for start, end, replacement in sorted(replacements):
        out.append(text[position:start])
        out_origins.extend(origins[position:start])
        if replacement == text[start:end]:
            out.append(replacement)
            out_origins.extend(origins[start:end])
        else:
            out.append(replacement)
            # Every digit maps to the start of the number it replaces; the end maps past it.
            out_origins.extend([origins[start]] * len(replacement))
        position = end
    out.append(text[position:])
    out_origins.extend(origins[position:])
    return "".join(out), out_origins


# Markup pasted or typed into the chat ("<b>你好</b><script>…</script>玉米多少钱"): tags, and whole
# script and style elements, are not the farmer's words (the web chat shows them as text anyway).
_MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|</?[A-Za-z][^<>]{0,80}>", re.IGNORECASE | re.DOTALL)


def _markup_positions(text: str) -> set:
    if "<" not in text:
        return set()
    return {index for match in _MARKUP.finditer(text) for index in range(match.start(), match.end())}


def normalise(text: str) -> Normalised:
    """Apply every normalisation step to a farmer's message."""
    chars: List[str] = []
    origins: List[int] = []
    previous_space = True
    text = text or ""
    markup = _markup_positions(text)
    for index, char in enumerate(text):
        if index in markup:
            if not previous_space:  # a tag between two words separates them
                chars.append(" ")
                origins.append(index)
                previous_space = True
            continue
        word = _emoji_product(text, index)
        if word is not None:
            chars.extend(word)
            origins.extend([index] * len(word))
            previous_space = False
            continue
        if _is_dropped(char):
            continue
        char = _half_width(char)
        if char.isspace():
            if previous_space:
                continue
            char = " "
        previous_space = char == " "
        chars.append(char)
        origins.append(index)
    while chars and chars[-1] == " ":
        chars.pop()
        origins.pop()
    simplified = _to_simplified("".join(chars))
    converted, origins = _convert_numbers(simplified, origins)
    return Normalised(text=converted, origins=tuple(origins))

