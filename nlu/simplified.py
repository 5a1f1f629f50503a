"""Traditional → simplified Chinese (OpenCC t2s): one converter per process, shared by the NLU text normaliser
and the article search (knowledge.articles.search). Kept apart from the normaliser so that search does not load
its numeral parser."""
from __future__ import annotations

from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """The text written in simplified characters."""
    return _converter().convert(text)
