"""The rules on a message's shape that overrule DIET: noise is not understood, an elliptical message
is a follow-up. Sentences here are written for these tests, not taken from the golden sets."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa.shared.nlu.training_data.message import Message

from nlu.components import FollowUpDetector, NoiseDetector
from nlu.follow_ups import is_bare_how_much, is_follow_up
from nlu.noise import INTERJECTIONS, MEANINGFUL_SOUNDS, is_noise


@pytest.mark.parametrize("text", ["jjjjjj", "zxcv bnm", "哦哦哦 嗯哈", "咦咦咦咦", "4567845678", "啦啦啦 abcabc",
                                  "！！！", "的的的的的"])
def test_mash_and_runs_of_sounds_are_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", ["嗯", "哦哦", "好的", "ok", "300", "13912345678", "白菜", "转人工", "hi",
                                  "玉米2块", "嗯 玉米多少钱"])
def test_short_replies_numbers_and_questions_are_not_noise(text: str) -> None:
    assert not is_noise(text)


@given(st.text(alphabet=sorted(INTERJECTIONS), min_size=3, max_size=12)
       .filter(lambda t: len(set(t)) > 1 and t not in MEANINGFUL_SOUNDS))
def test_any_run_of_several_interjections_is_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize("text", ["嗨", "哈喽", "哈喽哈喽", "嗯呐", "嗯嗯嗯", "谢谢谢谢", "拜拜拜拜", "好好好好",
                                  "byebye"])
def test_greetings_yes_and_thanks_spelt_with_sounds_or_said_twice_are_not_noise(text: str) -> None:
    assert not is_noise(text)


@pytest.mark.parametrize("text", ["那牛肉呢", "一吨呢", "换成斤", "要是交三十年呢", "2022年的呢", "那郑州的呢",
                                  "按公斤算", "只交八年呢", "那怎么申请呢"])
def test_elliptical_messages_are_follow_ups(text: str) -> None:
    assert is_follow_up(text)


@pytest.mark.parametrize("text", ["牛肉多少钱一斤", "那牛肉今天多少钱一斤呢", "新农合一年交多少钱", "谢谢",
                                  "我想问一下今年的小麦最低收购价到底是多少钱呢"])
def test_questions_of_their_own_are_not_follow_ups(text: str) -> None:
    assert not is_follow_up(text)


def test_a_bare_how_much_is_recognised_but_only_short() -> None:
    assert is_bare_how_much("籼稻是多少") and is_bare_how_much("晚稻的多少")
    assert not is_bare_how_much("公斤价多少")  # a price question: the price answer knows the unit follows up
    assert not is_bare_how_much("今年国家定的稻谷最低收购价是多少") and not is_bare_how_much("多少钱")


def _parsed(text: str, intent: str, entities=()) -> Message:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9},
                            "entities": list(entities)})
    return message


def test_noise_detector_overrules_diet_and_says_so() -> None:
    message = NoiseDetector().process([_parsed("嗯哼 哈哈哈", "affirm")])[0]
    assert message.get("intent")["name"] == "nlu_fallback" and message.get("relabelled_by") == "NoiseDetector"
    untouched = NoiseDetector().process([_parsed("好的", "affirm")])[0]
    assert untouched.get("intent")["name"] == "affirm" and untouched.get("relabelled_by") is None


@pytest.mark.parametrize(
    ("text", "diet", "entities", "expected"),
    [
        ("那交够二十年呢", "ask_pension", [], "inform"),  # a follow-up DIET took for a pension article
        ("籼稻是多少", "ask_price", [], "inform"),  # a bare "how much" DIET took for a price
        ("医保交多少", "ask_medical_insurance", [], "ask_medical_insurance"),  # a question of its own
        ("新农合交多少", "ask_price", [{"entity": "policy_topic", "value": "城乡居民医保"}], "ask_price"),
        ("那好吧", "affirm", [], "affirm"),  # a reply, not a question: left alone
        ("/inform{\"product\":\"玉米\"}", "ask_price", [], "ask_price"),  # a button payload
    ],
)
def test_follow_up_detector(text: str, diet: str, entities, expected: str) -> None:
    message = FollowUpDetector().process([_parsed(text, diet, entities)])[0]
    assert message.get("intent")["name"] == expected


@pytest.mark.parametrize(
    ("text", "diet", "expected"),
    [
        ("那先走了", "goodbye", "goodbye"),  # a reply in a follow-up's shape stays what DIET read
        ("是着呢", "affirm", "affirm"),
        ("那就这样吧", "deny", "deny"),
        ("全国的呢", "affirm", "inform"),  # names what changes: a follow-up DIET mistook for a reply
        ("要是论吨呢", "thank", "inform"),
        ("按300交20年每月能有多少", "calc_pension", "calc_pension"),  # 按 before an amount: its own question
        ("要是交300交20年呢", "calc_pension", "calc_pension"),  # both inputs named: a whole calculation
        ("前年这会儿牛肉跟现在比呢", "ask_price_trend", "ask_price_trend"),  # a comparison of its own
        ("牛肉价格多少", "ask_price", "ask_price"),  # a price question, not a bare "how much"
    ],
)
def test_replies_stay_replies_and_changes_are_follow_ups(text: str, diet: str, expected: str) -> None:
    message = FollowUpDetector().process([_parsed(text, diet)])[0]
    assert message.get("intent")["name"] == expected
