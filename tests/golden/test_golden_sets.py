"""The golden sets are well formed, judge replies strictly, and stay out of everything the bot learns from."""
from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import yaml

from nlu.text_normalizer import normalise
from settings import PROJECT_ROOT
from tests.golden.conversation_set import Turn, load_conversations, load_kinds, reply_text
from tests.golden.thresholds import floor_of, load_thresholds, raise_from_reports, shortfalls

article_bench = importlib.import_module("bench.article_bench")

MINIMUM_CONVERSATIONS = 180
MINIMUM_PER_KIND = 5
# Inline entity annotations of Rasa's YAML: [玉米](product) and [玉米]{"entity": "product"}.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_NOT_WORD = re.compile(r"[\W_]+")


def comparable(sentence: str) -> str:
    """A sentence as the NLU sees it (normalised), without punctuation and spaces."""
    return _NOT_WORD.sub("", normalise(sentence).text).lower()


def _nlu_examples(path: Path) -> Iterator[str]:
    """Every example, synonym and lookup entry of a Rasa NLU YAML file, annotations removed."""
    for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        if "regex" in item:
            continue  # patterns, not sentences
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield _ANNOTATION.sub(r"\1", line[2:])


def learnt_sentences() -> Dict[str, str]:
    """What the bot learns from or indexes, comparable form → where it is: NLU data, held-out set, article questions."""
    found: Dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml")) + [PROJECT_ROOT / "tests" / "nlu_holdout.yml"]:
        for sentence in _nlu_examples(path):
            found.setdefault(comparable(sentence), str(path.relative_to(PROJECT_ROOT)))
    seed = yaml.safe_load((PROJECT_ROOT / "knowledge" / "seed" / "articles.yml").read_text(encoding="utf-8"))
    for article in seed["articles"]:
        for question in article.get("questions") or []:
            found.setdefault(comparable(question), f"knowledge/seed/articles.yml ({article['title']})")
    found.pop("", None)
    return found


def golden_sentences() -> List[str]:
    """Every farmer sentence of the golden sets and of the article development set."""
    turns = [turn.user for conversation in load_conversations() for turn in conversation.turns]
    articles = article_bench.load_article_set() + article_bench.load_article_set(article_bench.DEV_SET)
    return turns + [item.question for item in articles]


def test_no_golden_sentence_is_in_training_data_the_held_out_set_or_the_article_questions() -> None:
    learnt = learnt_sentences()
    assert len(learnt) > 500  # the NLU files were read, not silently skipped
    seen = [(text, learnt[comparable(text)]) for text in golden_sentences() if comparable(text) in learnt]
    assert not seen, "golden sentences the bot already learns from (rewrite them in the golden set): " + repr(seen)


def test_the_article_development_set_shares_no_sentence_with_the_test_set() -> None:
    tested = {comparable(item.question) for item in article_bench.load_article_set()}
    development = [item.question for item in article_bench.load_article_set(article_bench.DEV_SET)]
    assert len(development) >= 150
    assert len({comparable(question) for question in development}) == len(development), "a question is labelled twice"
    assert [question for question in development if comparable(question) in tested] == []


def test_conversation_set_is_large_enough_with_five_of_every_kind() -> None:
    conversations = load_conversations()
    per_kind = Counter(conversation.kind for conversation in conversations)
    assert len(conversations) >= MINIMUM_CONVERSATIONS
    thin = {kind: per_kind[kind] for kind in load_kinds() if per_kind[kind] < MINIMUM_PER_KIND}
    assert not thin, f"kinds with fewer than {MINIMUM_PER_KIND} conversations: {thin}"


@pytest.mark.parametrize(
    ("turn", "reply", "problems"),
    [
        (Turn("牛肉价", contains=("牛肉", "28.50元/斤")), "牛肉：均价28.50元/斤（全国农产品批发市场均价）", []),
        (Turn("牛肉价", contains=("28.50元/斤",)), "牛肉：均价57.00元/公斤", ["missing '28.50元/斤'"]),
        (Turn("大白菜", not_contains=("全国",)), "大白菜：均价0.58元/斤（全国）", ["must not say '全国'"]),
        (Turn("啊啊", contains_any=("没听明白", "答不了")), "好的。", ["missing any of ['没听明白', '答不了']"]),
        # Full-width and half-width brackets are the same to the farmer.
        (Turn("粮补", contains=("财农〔2023〕12号", "(按亩)")), "依据：财农〔2023〕12号（按亩）", []),
    ],
)
def test_a_reply_is_judged_by_what_it_contains(turn: Turn, reply: str, problems: List[str]) -> None:
    assert turn.problems(reply) == problems


def test_the_reply_a_farmer_sees_includes_button_titles() -> None:
    messages = [{"text": "不是这个？您可能想问："}, {"buttons": [{"title": "城乡居民大病保险", "payload": "/x"}]}]
    assert reply_text(messages) == "不是这个？您可能想问：\n城乡居民大病保险"


def test_floors_round_down_to_a_whole_percent_and_are_only_ever_raised() -> None:
    assert [floor_of(score) for score in (0.8009, 0.29, 0.6, 1.0)] == [0.80, 0.29, 0.6, 1.0]
    old = {"articles": {"top1": 0.80, "top3": 0.95}, "conversations": {"overall": 0.5, "kinds": {"price": 0.9}}}
    kinds = {"price": {"score": 0.8}, "gibberish": {"score": 0.3333}}
    conversation_report = {"report": {"overall": {"score": 0.6321}, "kinds": kinds}}
    new = raise_from_reports(old, [conversation_report, {"top1": 0.9712, "top3": 0.94}])
    assert new == {"articles": {"top1": 0.97, "top3": 0.95},
                   "conversations": {"overall": 0.63, "kinds": {"price": 0.9, "gibberish": 0.33}}}
    with_dev = raise_from_reports(new, [{"top1": 0.95, "top3": 0.99, "dev": {"top1": 0.9688, "top3": 1.0}}])
    assert with_dev["articles"] == {"top1": 0.97, "top3": 0.99}
    assert with_dev["articles_dev"] == {"top1": 0.96, "top3": 1.0}
    assert shortfalls({"overall": 0.62, "price": 0.95}, {"overall": 0.63, "price": 0.9, "emoji": 0.1}) == [
        "overall 0.6200 < 0.63", "emoji missing < 0.10"]


def test_a_floor_given_twice_is_refused_rather_than_silently_replaced(tmp_path: Path) -> None:
    pasted_twice = tmp_path / "thresholds.yml"
    pasted_twice.write_text("conversations:\n  kinds:\n    price: 0.9\n    price: 1.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'price' is given twice"):
        load_thresholds(pasted_twice)
    assert set(load_thresholds()) == {"articles", "articles_dev", "conversations"}  # the real file loads
