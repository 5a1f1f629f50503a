"""Products a farmer probably meant when the name typed is not one we know ("玉迷", "鸡弹", "王米").

A name typed where a product belongs (the NLU's product entity) matches a product's name or alias
when it sounds the same (toneless pinyin: 玉迷 = yu mi = 玉米) or is one character off (王米 for 玉米).
Inside a whole message, where any two characters may be ordinary words, only a word that sounds
like a name, or keeps its first character with the second wrong (牛内 for 牛肉), counts: "的菜" is
not a typo of 韭菜. Homophones rank first; a product is suggested once, by its canonical name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Tuple

from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein
from sqlalchemy.orm import Session

from knowledge.catalog.snapshot import catalog

_CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Names shorter than this are too easy to hit by chance with one wrong character.
_SHORTEST_NAME = 2
# Words of a price question around the name: a stretch of a message holding one is not a typed name
# ("菜多" of "的菜多少钱" is not 菜花).
_QUESTION_CHARS = set("的了吗呢吧啊是在有和跟与多少几啥么怎咋钱价斤元块毛角一")


@dataclass(frozen=True)
class NearProduct:
    """A product the farmer probably meant: what they typed, and the product's canonical name."""

    typed: str
    product: str


@lru_cache(maxsize=4096)
def _sound(word: str) -> Tuple[str, ...]:
    return tuple(lazy_pinyin(word))


def _closeness(typed: str, name: str, in_message: bool) -> int:
    """2 for the same sound, 1 for one character off, 0 for neither."""
    if _sound(typed) == _sound(name):
        return 2
    if in_message:
        return 1 if len(typed) == len(name) and typed[0] == name[0] and Levenshtein.distance(typed, name) == 1 else 0
    return 1 if Levenshtein.distance(typed, name) == 1 else 0


def near_products(session: Session, words: str, in_message: bool = False, limit: int = 3) -> List[NearProduct]:
    """Products whose name or alias `words` nearly writes: a name typed as a product, or somewhere in a message."""
    names = catalog(session).product_names()
    candidates = [(0, words.strip())] if not in_message else [
        (run.start() + start, run.group()[start:start + length])
        for run in _CHINESE_RUN.finditer(words or "")
        for length in sorted({len(name) for name in names})
        for start in range(len(run.group()) - length + 1)
    ]
    scored: List[Tuple[int, int, NearProduct]] = []
    for position, typed in candidates:
        if len(typed) < _SHORTEST_NAME or typed in names:
            continue  # a known name is found by the exact lookup, not suggested
        if in_message and _QUESTION_CHARS.intersection(typed):
            continue
        for name, product in names.items():
            if name.endswith("价"):
                continue  # "猪价", "蛋价" are ways of asking a price, not names to be one typo away from
            closeness = _closeness(typed, name, in_message) if len(name) >= _SHORTEST_NAME else 0
            if closeness:
                scored.append((-closeness, position, NearProduct(typed, product)))
    found: List[NearProduct] = []
    for _, _, near in sorted(scored, key=lambda item: (item[0], item[1])):
        if all(near.product != earlier.product for earlier in found):
            found.append(near)
    return found[:limit]
