"""Conversation context for follow-ups: what a message that names only what changes means.

Every answering action records what it answered in slots (`topic`, and `unit`, `date`, `asked`,
`pension_inputs`); a follow-up ("那粳稻呢", "一公斤呢", "25年的呢", "那交二十五年呢") reaches the same
action again (data/rules/followups.yml), which fills in what the farmer left out from them. The
place asked about (`place`) is context too, and never the farmer's home region.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.answers import latest_text

# A year a question names: "2024年", "24年", "今年", "去年"; not a count of years ("交15年").
_YEAR_WORDS = re.compile(r"(?<![交缴满够了续])(?:(?:19|20)\d{2}|\d{2})\s*年(?:度)?|今年|去年|前年|明年|现在|目前|最新")
_TWO_DIGIT_YEAR = re.compile(r"^(\d{2})\s*年")


def is_follow_up(tracker: Tracker) -> bool:
    """The latest message follows up on the last answer (the NLU labelled it `inform`)."""
    return (tracker.latest_message.get("intent") or {}).get("name") == "inform"


def last_topic(tracker: Tracker) -> Optional[str]:
    """What the last answer was about: price, trend, policy, pension, medical or pension_calc."""
    value = tracker.get_slot("topic")
    return str(value) if value else None


def remember(**slots: Any) -> List[Dict[str, Any]]:
    """SlotSet events for the context an answer leaves behind (None clears a slot)."""
    return [SlotSet(name, value) for name, value in slots.items()]


def what_changes(tracker: Tracker) -> str:
    """What a follow-up changes ("那早籼稻的呢" → "早籼稻"), as the NLU found it (nlu/follow_ups.py)."""
    return str(tracker.latest_message.get("follow_up_change") or "") or latest_text(tracker)


def year_words(text: str) -> List[str]:
    """The years a question names, as written ("24年", "今年")."""
    return [match.group() for match in _YEAR_WORDS.finditer(text or "")]


def full_year(words: str, this_year: int) -> str:
    """"24年" → "2024年"; other year words as they are."""
    found = _TWO_DIGIT_YEAR.match(words)
    if not found:
        return words
    short = int(found.group(1))
    return f"{(2000 if short <= this_year % 100 + 1 else 1900) + short}年"


def merged_question(previous: str, change: str, product_words: Iterable[str], this_year: int) -> str:
    """The question before with what the follow-up changes: its product, its year, or else its aspect.

    "小麦保护价定的多少" + "早籼稻" → "早籼稻保护价定的多少"; "小麦最低收购价现在多少" + "2024年" →
    "小麦最低收购价2024年多少"; "基础养老金多少" + "怎么领" → "基础养老金多少 怎么领".
    `change` is what the follow-up changes (what_changes); `product_words` are the product names and
    aliases the question before contains, as written.
    """
    if not change:
        return previous
    years = year_words(change)
    if years and _YEAR_WORDS.sub("", change).strip() == "":
        year = full_year(years[0], this_year)
        if year_words(previous):
            return _YEAR_WORDS.sub(year, previous, count=1)
        return f"{year}{previous}"
    for word in sorted(product_words, key=len, reverse=True):
        if word and word in previous:
            return previous.replace(word, change, 1)
    return f"{previous} {change}"
