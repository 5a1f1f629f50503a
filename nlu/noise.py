"""Is a message noise: keyboard mash, a run of interjections, a string of digits that is no amount?

DIET has to put every message into some intent, and it put "啊啊啊啊啊" into affirm ("好的。"),
"呃呃 哦哦" into thank ("不客气！") and "789789789" into goodbye. Noise has a shape that is easy to
tell by rule and hard to learn from examples (there is no end of it), so the NLU pipeline asks this
module first and treats noise as not understood (nlu.components.NoiseDetector).
"""
from __future__ import annotations

import re
import unicodedata

# Sounds, not words: a message made of these only carries no question.
INTERJECTIONS = frozenset(
    "啊阿呃额嗯恩哦噢喔哈呵嘿嘻呀咿哼嘀嗒吧啦呜唔诶欸唉哎嗨嘛呗咦哟哇嘞咯喽么呐嗷嚯吼哒滴叭咚唧叽咕噜嘟呱哗啪嘣嘎"
)
# Short replies that are words although made of those sounds: "嗯" and "哦" say yes, "哈哈" laughs
# at something the bot said, "嗨" and "哈喽" greet. A message of one of these is left to the NLU.
MEANINGFUL_SOUNDS = frozenset({"嗯", "嗯嗯", "嗯嗯嗯", "恩", "恩恩", "哦", "哦哦", "噢", "喔", "哈哈", "嗯呢", "嗯呐",
                               "嗯哪", "好吧", "啊", "嗨", "嗨嗨", "哈喽", "哈喽哈喽"})
# Latin words farmers do type: greetings, yes/no, thanks, and "ok".
LATIN_WORDS = frozenset({"ok", "okay", "yes", "no", "hi", "hello", "bye", "byebye", "thanks", "thx", "help", "sorry",
                         "hey"})
# Words said twice over ("谢谢谢谢", "拜拜拜拜", "好好好好"): a run of one of these characters is a reply.
_DOUBLED_WORDS = frozenset("谢拜好对是行中要不")
# A mobile number (a farmer leaving a way to be called back) is not noise.
_MOBILE = re.compile(r"1[3-9]\d{9}")
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]+")
# Digits this long with nothing around them are no price, amount or year.
_LONGEST_PLAIN_NUMBER = 6


def _visible(text: str) -> str:
    """The text without spaces, punctuation and symbols (emoji have been turned into words or dropped)."""
    return "".join(char for char in text if unicodedata.category(char)[0] in "LN")


def _is_junk_token(token: str) -> bool:
    if token.isascii() and token.isalpha():
        return token.lower() not in LATIN_WORDS
    if token.isdigit():
        return len(token) > _LONGEST_PLAIN_NUMBER and not _MOBILE.fullmatch(token)
    letters = _visible(token)
    if not letters:
        return True  # punctuation or symbols only
    if all(char in INTERJECTIONS for char in letters):
        return True
    # One character typed over and over ("的的的的"): a finger on a key, not a word.
    return len(letters) >= 4 and len(set(letters)) == 1 and letters[0] not in _DOUBLED_WORDS


def is_noise(text: str) -> bool:
    """True when every part of the message is noise, and the message is not a meaningful sound on its own."""
    stripped = (text or "").strip()
    if not _visible(stripped):
        return bool(stripped)  # only punctuation ("？？？", "……"); an empty text is nobody's message
    if _visible(stripped) in MEANINGFUL_SOUNDS or stripped.lower() in LATIN_WORDS:
        return False
    tokens = [token for token in _TOKEN.findall(stripped) if token.strip()]
    return bool(tokens) and all(_is_junk_token(token) for token in tokens)
