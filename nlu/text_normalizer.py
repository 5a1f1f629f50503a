"""Normalise what farmers type before tokenisation: traditional → simplified, full-width → half-width,
Chinese numerals → digits where they are amounts or years, emoji and stray whitespace removed.

Every step keeps a map from each output character back to the input, so entity spans annotated on
the raw training text can be moved onto the normalised text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cn2an

from nlu.simplified import to_simplified

_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"
_NUMERAL_RUN = re.compile(f"[{_NUMERAL_CHARS}]+(?:点[{_NUMERAL_CHARS}]+)?")
# A numeral run is a quantity when a unit follows or a paying verb precedes it ("交五百", "十五年").
_UNIT_AFTER = re.compile(r"^(?:块|元|年|岁|斤|公斤|亩|个月|月份|月|号|日|天|毛|角|吨|档|万|千|百)")
_VERB_BEFORE = re.compile(r"(?:交|缴|存|领|拿|花|付|补|给|是|有|到|了|满|年|每年|一年)$")
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
    return category in ("So", "Cc", "Cf", "Sk") or 0x1F000 <= ord(char) <= 0x1FAFF


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


def _convert_numerals(text: str, origins: List[int]) -> Tuple[str, List[int]]:
    out: List[str] = []
    out_origins: List[int] = []
    position = 0
    for match in _NUMERAL_RUN.finditer(text):
        start, end = match.span()
        run = match.group()
        before, after = text[:start], text[end:]
        is_idiom = any(text.startswith(idiom, start) or text[max(0, start - 1):].startswith(idiom) for idiom in _IDIOMS)
        paid = bool(_VERB_BEFORE.search(before))
        # A lone 一 is an article more often than a number ("一斤", "一年"): keep it unless paid.
        is_quantity = paid or (run != "一" and (bool(_UNIT_AFTER.match(after)) or len(run) >= 2))
        replacement: Optional[str] = None
        if is_quantity and not is_idiom:
            try:
                value = cn2an.cn2an(run, "smart")
                replacement = str(int(value)) if float(value).is_integer() else str(value)
            except (ValueError, KeyError, TypeError):
                replacement = None
        out.append(text[position:start])
        out_origins.extend(origins[position:start])
        if replacement is None:
            out.append(run)
            out_origins.extend(origins[start:end])
        else:
            out.append(replacement)
            # Every digit maps to the start of the numeral run; the end maps past it.
            out_origins.extend([origins[start]] * len(replacement))
        position = end
    out.append(text[position:])
    out_origins.extend(origins[position:])
    return "".join(out), out_origins


def normalise(text: str) -> Normalised:
    """Apply every normalisation step to a farmer's message."""
    chars: List[str] = []
    origins: List[int] = []
    previous_space = True
    for index, char in enumerate(text or ""):
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
    converted, origins = _convert_numerals(simplified, origins)
    return Normalised(text=converted, origins=tuple(origins))

