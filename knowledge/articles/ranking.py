"""Second-stage ranking of search candidates: how close the farmer's question is to each article's own wording.

The database ranks on jieba's words, and a farmer's words are often cut differently from the
article's ("能领" against "领", "卡里" against "卡上"), so two questions that mean the same thing may
share no word but the topic. Characters and character pairs survive any cut. Among the dozen
candidates the database returns, each article is scored by its closest question form (or its
title), plus how much of the question its answer holds; the pieces are weighted by how rare they
are among the candidates, so the topic that every candidate shares counts for little and the
aspect asked about ("几月", "谁", "每亩") decides.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Sequence, Tuple

# Characters that carry no meaning of their own in a question (particles, pronouns, 是/有/不).
_EMPTY_CHARS = frozenset("的了吗呢啊吧呀哦嘛么哈我你他她俺咱们是个这那就都也还不没有要想能会在和跟与及或给")
# Numbers and Latin words apart from the Chinese around them ("139是啥意思" → "139", "是啥意思").
_RUN = re.compile(r"[0-9a-z.]+|[^\W0-9a-z_]+")
# How the final order weighs the database's relevance against the wording here (tuned on
# tests/golden/articles_dev.yml, never on the test set).
ENGINE_WEIGHT = 0.25
ANSWER_WEIGHT = 0.35
# The title names the fact an article gives; a question close to it counts this much more.
TITLE_WEIGHT = 0.2
# A single character says less than a pair of them.
CHAR_WEIGHT = 0.5


@dataclass(frozen=True)
class Wording:
    """The pieces of an article's title and each question form, and of its answer: what a question is compared with."""

    forms: Tuple[FrozenSet[str], ...]
    answer: FrozenSet[str]
    # Every piece of the forms and the answer together.
    every: FrozenSet[str]

    @classmethod
    def of(cls, forms: Sequence[str], answer: str) -> "Wording":
        """The wording of an article from its (normalised) title and question forms and answer."""
        form_pieces = tuple(frozenset(pieces(form)) for form in forms)
        answer_pieces = frozenset(pieces(answer))
        return cls(form_pieces, answer_pieces, frozenset().union(*form_pieces, answer_pieces))


def pieces(text: str) -> Dict[str, float]:
    """The characters and character pairs of a text with their weight (pairs 1, single characters CHAR_WEIGHT)."""
    found: Dict[str, float] = {}
    for run in _RUN.findall(text):
        if run.isascii():
            found[run.strip(".")] = 1.0  # a number or a Latin word is one piece
            continue
        for index, char in enumerate(run):
            if char not in _EMPTY_CHARS and not char.isdigit():
                found.setdefault(char, CHAR_WEIGHT)
            if index + 1 < len(run):
                pair = run[index:index + 2]
                if not (pair[0] in _EMPTY_CHARS and pair[1] in _EMPTY_CHARS):
                    found[pair] = 1.0
    return found


def wording_scores(question: str, candidates: Sequence[Wording]) -> List[float]:
    """For each candidate, how close the question is to its closest form plus how much of it the answer holds (0–1+)."""
    total = len(candidates)
    weighted = {}
    for piece, weight in pieces(question).items():
        # Rarer among the candidates weighs more; a piece no candidate holds still counts in the
        # whole, as a question mostly about something else is not close to any of them.
        holding = sum(1 for candidate in candidates if piece in candidate.every)
        weighted[piece] = weight * math.log((total + 1) / (holding + 0.5))
    whole = sum(weighted.values())
    if whole <= 0:
        return [0.0 for _ in candidates]

    def share(text: FrozenSet[str]) -> float:
        return sum(value for piece, value in weighted.items() if piece in text) / whole

    scores = []
    for candidate in candidates:
        forms = [share(form) for form in candidate.forms]
        scores.append(max(forms, default=0.0) + (TITLE_WEIGHT * forms[0] if forms else 0.0)
                      + ANSWER_WEIGHT * share(candidate.answer))
    return scores


def blended(relevance: Sequence[float], wording: Sequence[float]) -> List[float]:
    """The final score of each candidate: the engine's relevance (scaled to the best) blended with the wording score."""
    best = max((value for value in relevance if value > 0), default=1.0)
    return [ENGINE_WEIGHT * max(value, 0.0) / best + (1 - ENGINE_WEIGHT) * score
            for value, score in zip(relevance, wording, strict=True)]
