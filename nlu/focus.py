"""The question inside a long message: farmers tell the story first and ask at the end.

"俺是河南周口的 家里种了二十来亩地 … 想问问小麦最低收购价今年是多少": DIET, trained on short
questions, reads the story's words (收成, 价钱, 贩子) and misses the question; search weighs them
too. A message longer than LONG_MESSAGE is cut into clauses, and the last clause that asks
something (with the clause before it when that one is short, "我想问问 …") is what the NLU reads.
Shorter messages are left whole. The farmer's whole message stays in the tracker for the officer.
"""
from __future__ import annotations

import re
from typing import Tuple

# Characters; farmers' questions are rarely longer, their stories always are.
LONG_MESSAGE = 40
# A clause shorter than this is a lead-in ("想问问", "你说") to the question that follows it.
SHORT_CLAUSE = 8
_ASKS = re.compile(r"多少|几|吗|么|咋|怎|啥|什么|哪|呢|还是|能不能|是不是|有没有|要不要|可不可以|行不行|[?？]")


_CLAUSE = re.compile(r"[^\s,，。.!！?？;；…~～]+")


def focus_span(text: str) -> Tuple[int, int]:
    """Where the question a long message ends in lies in it: (start, end); the whole text when it is
    short or asks nothing. The span runs from the lead-in clause, if any, to the end of the question."""
    if len(text) <= LONG_MESSAGE:
        return 0, len(text)
    parts = list(_CLAUSE.finditer(text))
    for index in range(len(parts) - 1, -1, -1):
        if _ASKS.search(parts[index].group()):
            start = parts[index].start()
            if index > 0 and len(parts[index - 1].group()) < SHORT_CLAUSE:
                start = parts[index - 1].start()
            return start, parts[index].end()
    return 0, len(text)


def question_focus(text: str) -> str:
    """The question a long message ends in; the message itself when it is short or asks nothing."""
    start, end = focus_span(text)
    return text[start:end]
