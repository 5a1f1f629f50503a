"""Is a message an elliptical follow-up ("那粳稻呢", "一公斤呢", "要是交二十年呢", "25年的有没有")?

Farmers ask a second question by naming only what changes; the rest is the question before.
Such a message has a shape of its own (a leading 那/要是/换成, a trailing 呢/的话), but taken alone
DIET reads it as whatever its one word suggests: "那交够25年呢" as a pension article, "那粳稻呢" as a
market price. nlu.components.FollowUpDetector labels it `inform`, and the dialogue
(data/rules/followups.yml, on the `topic` slot) sends it to whatever was asked last.
"""
from __future__ import annotations

import re

# At most this long: a longer message carries a question of its own.
MAX_LENGTH = 16
# 按/论 lead a unit ("按斤算呢", "论公斤"), not any sentence ("按200交15年…" is a question of its own).
_LEADING = re.compile(
    r"^(?:那|那么|那要是|那如果|要是|如果|假如|假设|换成|换算成|改成|改为|换|改|折成|折合|只|光|还有"
    r"|(?:按|论)(?=斤|公斤|千克|吨|市斤|重量|每斤|一斤|一公斤))"
)
_TRAILING = re.compile(r"(?:呢|的话|呐|咧|的呢|嘞)$")
_WHOLE_PRICE_QUESTION = re.compile(r"多少钱|价格|行情")
_PUNCTUATION = re.compile(r"[\s？?。.!！，,、~～…]+$")


def is_follow_up(text: str) -> bool:
    """True for a short message that names only what changes against the question before."""
    stripped = _PUNCTUATION.sub("", (text or "").strip())
    if not stripped or len(stripped) > MAX_LENGTH:
        return False
    if not (_TRAILING.search(stripped) or _LEADING.search(stripped)):
        return False
    # "那怎么领呢" follows up too (how to claim what was just answered); only a message that would be
    # a whole price question without its 那/呢 ("那玉米多少钱一斤呢") is left to DIET.
    return not _WHOLE_PRICE_QUESTION.search(stripped) or len(stripped) <= 6


# "粳稻是多少": a short "how much" after a thing, with no word for money or a unit ("小麦价格多少",
# "鲫鱼一斤多少" ask a price as a whole question).
_BARE_HOW_MUCH = re.compile(r"^.{1,5}?(?:是|的|要|能)?多少$")
_MONEY_OR_UNIT = re.compile(r"价|钱|块|元|斤|公斤|千克|吨|收购")


def is_bare_how_much(text: str) -> bool:
    """True for "X是多少" without 钱/价格: a follow-up when X is a thing the last answer was about.

    Alone it could be a question of its own ("医保交多少"), so the NLU uses it only where DIET read a
    price question and found no policy topic in it: after a price that is the same price question,
    and after a minimum purchase price it is that question for another grain."""
    stripped = _PUNCTUATION.sub("", (text or "").strip())
    return bool(_BARE_HOW_MUCH.match(stripped)) and not _MONEY_OR_UNIT.search(stripped)


# Words that only mark a message as a follow-up, or ask nothing of their own; what remains of a
# follow-up without them is what changes ("那早籼稻的呢" → "早籼稻").
_MARKERS = re.compile(
    r"^(?:那么|那要是|那如果|那|要是|如果|假如|假设|换算成|换成|改成|改为|换|改|折成|折合|还有)"
    r"|(?:的时候|的标准|的价格|的价|的话|的呢|呢|呐|咧|嘞|吗|有没有|是多少|多少|的|是)+$"
)
_ALL_PUNCTUATION = re.compile(r"[\s？?。.!！，,、~～…]+")
# Replies that may come in a follow-up's shape ("好的呢", "那好吧"): nothing changes in them.
REPLY_WORDS = frozenset({"好", "好的", "好吧", "行", "行吧", "对", "是", "是的", "嗯", "没有", "没了", "不用", "不要",
                         "算了", "谢谢", "谢谢你", "就这样", "知道了", "明白了", "别的", "其他", "再见"})


def what_changes(text: str) -> str:
    """A follow-up without its markers: "那早籼稻的呢" → "早籼稻", "18年的时候呢" → "18年"."""
    words = _ALL_PUNCTUATION.sub("", text or "")
    previous = None
    while previous != words:
        previous, words = words, _MARKERS.sub("", words)
    return words


def is_reply(text: str) -> bool:
    """A reply in a follow-up's shape ("好的呢", "那算了"): nothing in it changes the question before."""
    return what_changes(text) in REPLY_WORDS or not what_changes(text)


# What a follow-up may change: a unit, a year or month, an amount, the country as a whole, a tier.
_CHANGE_WORDS = re.compile(r"\d|斤|公斤|千克|吨|全国|年|月|档|块|元|万|千|百")


def names_a_change(text: str) -> bool:
    """Whether a message in a follow-up's shape names something a question can change ("全国平均呢",
    "要是一千克呢"), which a reply in the same shape ("那先拜拜了", "对着呢", "那算了吧") does not."""
    return bool(_CHANGE_WORDS.search(what_changes(text)))


# A pension calculation that names both a yearly amount and the years ("如果交400交20年…") is a whole
# question; a trend question that compares ("…跟现在比呢") is one too.
_WHOLE_CALCULATION = re.compile(r"\d{3,}.*\d+\s*年|\d+\s*年.*\d{3,}")
_COMPARES = re.compile(r"涨|跌|比")


def is_whole_question(text: str, intent: str) -> bool:
    """A message in a follow-up's shape that is still a question of its own for the intent DIET read."""
    if intent == "calc_pension":
        return bool(_WHOLE_CALCULATION.search(text))
    if intent == "ask_price_trend":
        return bool(_COMPARES.search(text))
    return False
