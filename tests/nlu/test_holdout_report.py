"""The held-out score is what the bot ends up with: the pipeline's intent, products merged and after synonyms."""
from __future__ import annotations

from pathlib import Path

import pytest

from scripts.holdout_report import HeldOutScores, below_floors, expected_sentences, score_parses

HELD_OUT = """version: "3.1"
nlu:
  - intent: ask_price
    examples: |
      - [苞谷](product)多少钱一斤
      - [豬肉](product)啥價
  - intent: greet
    examples: |
      - 大姐你好
"""


def _parse(intent: str, *products: str) -> dict:
    return {"intent": {"name": intent},
            "entities": [{"entity": "product", "value": value, "extractor": extractor}
                         for value in products for extractor in ("DIETClassifier", "RegexEntityExtractor")]}


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    path: Path = tmp_path_factory.mktemp("holdout") / "holdout.yml"
    path.write_text(HELD_OUT, encoding="utf-8")
    return expected_sentences(path)


def test_expected_products_are_normalised_and_mapped_through_the_training_synonyms(expected):
    assert [sorted(sentence.products) for sentence in expected] == [["玉米"], ["猪肉"], []]


def test_the_same_product_from_two_extractors_counts_once(expected):
    scores = score_parses(expected, [_parse("ask_price", "玉米"), _parse("ask_price", "猪肉"), _parse("greet")])
    assert (scores.intent_accuracy, scores.product_f1) == (1.0, 1.0)
    assert (scores.wrong_intents, scores.wrong_products) == ([], [])


def test_a_fallback_is_a_wrong_intent_and_an_invented_product_costs_precision(expected):
    scores = score_parses(expected, [_parse("nlu_fallback", "玉米"), _parse("ask_price", "猪肉"),
                                     _parse("greet", "大姐")])
    assert scores.intent_accuracy == round(2 / 3, 4)
    assert (scores.product_precision, scores.product_recall, scores.product_f1) == (round(2 / 3, 4), 1.0, 0.8)
    assert scores.wrong_products == [{"text": "大姐你好", "expected": [], "got": ["大姐"]}]


def test_a_score_under_either_floor_fails():
    passing = HeldOutScores(sentences=100, intent_accuracy=0.95, product_precision=1.0, product_recall=0.9,
                            product_f1=0.95)
    failing = HeldOutScores(sentences=100, intent_accuracy=0.9499, product_precision=1.0, product_recall=0.9,
                            product_f1=0.94)
    assert below_floors(passing) == []
    assert [name for name, _, _ in below_floors(failing)] == ["intent_accuracy", "product_f1"]
