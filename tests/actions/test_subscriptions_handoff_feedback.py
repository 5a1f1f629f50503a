"""Subscriptions, handoff tickets, the two-fallbacks rule and 👍/👎 feedback, against the knowledge DB."""
import json

import pytest
from sqlalchemy import select

from actions.feedback import ActionSaveFeedback
from actions.handoff import ActionHandleFallback, ActionOutOfScope, ActionRequestHuman
from actions.subscriptions import (
    ActionListSubscriptions,
    ActionSubscribePriceAlert,
    ActionUnsubscribePriceAlert,
    alert_rule,
)
from knowledge.db import session_scope
from knowledge.models import Feedback, HandoffTicket, Subscription
from knowledge.people.farmers import find_farmer, set_home_region
from tests.actions.conftest import make_tracker, message, responses, run_action


@pytest.mark.parametrize(
    ("text", "amount", "rule"),
    [
        ("玉米价格变了告诉我", None, ("any_change", None, None)),
        ("每天给我发玉米价格", None, ("daily", None, 8)),
        ("每天7点推鸡蛋价格", None, ("daily", None, 7)),
        ("生猪低于7块告诉我", "7", ("below", 7, None)),
        ("苞谷超过1.2块提醒我", "1.2", ("above", 1.2, None)),
        # Farmers' prices, as typed and as the NLU normaliser passes them on, with or without an entity.
        ("玉米涨到1块2提醒我", "1", ("above", 1.2, None)),
        ("玉米涨到1块2提醒我", None, ("above", 1.2, None)),
        ("玉米涨到1.2块提醒我", "1.2块", ("above", 1.2, None)),
        ("小麦到一块一毛九叫我", None, ("above", 1.19, None)),
        ("白菜跌破五毛八告诉我", None, ("below", 0.58, None)),
        ("鸡蛋掉到0.55元通知我", "0.55元", ("below", 0.55, None)),
        ("猪肉跌破十块钱一斤告诉我", None, ("below", 10, None)),
        ("大豆超过2块4提醒", None, ("above", 2.4, None)),
        # A price per 公斤 is kept per 斤: 23.25 元/公斤 is 11.625 元/斤.
        ("猪肉一公斤跌破23.25告诉我", None, ("below", 11.625, None)),
    ],
)
def test_alert_rule(text, amount, rule) -> None:
    found = alert_rule(text, amount)
    assert (found[0], float(found[1]) if found[1] is not None else None, found[2]) == rule


@pytest.mark.parametrize(
    ("text", "entities", "confirmed"),
    [
        ("玉米涨到1块2提醒我", [("product", "玉米"), ("amount", "1")], "高于1.20元/斤时通知"),
        ("玉米一公斤涨到2块4提醒我", [("product", "玉米")], "高于2.40元/公斤时通知"),
        ("生猪跌破十一块四告诉我", [("product", "生猪")], "低于11.40元/斤时通知"),
        ("猪肉一公斤跌破23.25告诉我", [("product", "猪肉")], "低于23.25元/公斤时通知"),
    ],
)
async def test_a_threshold_is_confirmed_in_the_farmers_unit(knowledge_factory, text, entities, confirmed) -> None:
    # Issue 15: read back in the farmer's unit before anything is saved; saved only by the 对，订阅 button.
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), make_tracker("subscribe_price_alert", entities,
                                                                                text=text))
    question = message(dispatcher, "utter_confirm_alert_threshold")
    assert question["rule"] == confirmed
    with session_scope(knowledge_factory) as session:
        assert session.scalars(select(Subscription)).first() is None, "nothing is saved before the confirmation"
    [button] = question["buttons"]
    assert button["title"] == "对，订阅"
    # The button's payload, as Rasa parses it: the intent and its entities.
    payload = json.loads(button["payload"].removeprefix("/subscribe_price_alert"))
    pressed = make_tracker("subscribe_price_alert", list(payload.items()), text=button["payload"])
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), pressed)
    assert message(dispatcher, "utter_subscribed")["rule"] == confirmed
    with session_scope(knowledge_factory) as session:
        saved = session.scalars(select(Subscription)).one()
        assert saved.active and saved.rule in ("above", "below")


async def test_cancelling_with_several_subscriptions_asks_which(knowledge_factory) -> None:
    # Issue 15: "取消订阅" with three subscriptions cancelled all of them without asking.
    for product in ("玉米", "生猪", "鸡蛋"):
        await run_action(ActionSubscribePriceAlert(), make_tracker("subscribe_price_alert", [("product", product)],
                                                                   text=f"{product}价格变了告诉我"))
    dispatcher, _ = await run_action(ActionUnsubscribePriceAlert(), make_tracker("unsubscribe_price_alert",
                                                                                 text="取消订阅"))
    question = message(dispatcher, "utter_ask_which_unsubscribe")
    assert question["count"] == 3 and "1. 玉米：价格有变化就通知" in question["lines"]
    assert [button["title"] for button in question["buttons"]] == ["玉米", "生猪", "鸡蛋", "全部取消"]
    assert question["buttons"][1]["payload"] == '/unsubscribe_price_alert{"product": "生猪"}'
    with session_scope(knowledge_factory) as session:
        assert all(item.active for item in session.scalars(select(Subscription)))

    dispatcher, _ = await run_action(ActionUnsubscribePriceAlert(), make_tracker(
        "unsubscribe_price_alert", [("product", "生猪")], text=question["buttons"][1]["payload"]))
    assert message(dispatcher, "utter_unsubscribed") == {**message(dispatcher, "utter_unsubscribed"),
                                                          "what": "生猪", "count": 1}
    with session_scope(knowledge_factory) as session:
        active = {item.product.name for item in session.scalars(select(Subscription)) if item.active}
    assert active == {"玉米", "鸡蛋"}
    dispatcher, _ = await run_action(ActionUnsubscribePriceAlert(), make_tracker("unsubscribe_price_alert",
                                                                                 text="全部取消订阅"))
    assert message(dispatcher, "utter_unsubscribed")["count"] == 2


async def test_subscribe_list_and_cancel(knowledge_factory) -> None:
    subscribe = make_tracker("subscribe_price_alert", [("product", "苞谷")], slots={"place": "石家庄"},
                             text="苞谷价格变了告诉我", metadata={"channel": "telegram", "chat_id": 42})
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), subscribe)
    assert message(dispatcher, "utter_subscribed")["product"] == "玉米"
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), subscribe)
    assert responses(dispatcher) == ["utter_subscription_exists"]

    dispatcher, _ = await run_action(ActionListSubscriptions(), make_tracker("list_subscriptions", text="我订了啥"))
    assert "玉米" in message(dispatcher, "utter_subscriptions")["lines"]

    cancel = make_tracker("unsubscribe_price_alert", text="取消订阅")
    dispatcher, _ = await run_action(ActionUnsubscribePriceAlert(), cancel)
    assert message(dispatcher, "utter_unsubscribed")["count"] == 1
    with session_scope(knowledge_factory) as session:
        assert not any(item.active for item in session.scalars(select(Subscription)))


@pytest.mark.parametrize(
    ("entities", "slots", "expected"),
    [
        ([], {}, "utter_ask_subscribe_product"),
        ([("product", "火龙果")], {}, "utter_unknown_product"),
    ],
)
async def test_subscribe_needs_a_known_product(knowledge_factory, entities, slots, expected) -> None:
    tracker = make_tracker("subscribe_price_alert", entities, slots)
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), tracker)
    assert responses(dispatcher) == [expected]


async def test_request_human_opens_a_ticket_for_the_farmers_home_not_a_place_in_the_question(knowledge_factory) -> None:
    with session_scope(knowledge_factory) as session:
        assert set_home_region(session, "farmer-1", "rest", "石家庄").stored == "河北省石家庄市"
    earlier = [{"event": "user", "text": "宅基地怎么批",
                "parse_data": {"intent": {"name": "nlu_fallback"}}, "timestamp": 0.5}]
    # "帮我买张去北京的火车票" left 北京 in the place slot: it is not where the farmer lives.
    tracker = make_tracker("request_human", slots={"place": "北京"}, text="转人工", events=earlier)
    dispatcher, events = await run_action(ActionRequestHuman(), tracker)
    created = message(dispatcher, "utter_handoff_created")
    assert "石家庄" in created["who"] and created["question"] == "宅基地怎么批" and created["when"]
    with session_scope(knowledge_factory) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        # The officers of the farmer's home answer, not those of 北京, which the farmer only asked about.
        assert ticket.region.name.startswith("石家庄") and ticket.status == "open"
        assert ticket.conversation_id == "farmer-1"
        assert find_farmer(session, "farmer-1").region.name == "石家庄市"


@pytest.mark.parametrize(("misses_before", "expected"), [(0, "utter_default"), (1, "utter_offer_human")])
async def test_two_fallbacks_in_a_row_offer_a_person(knowledge_factory, misses_before, expected) -> None:
    before = [{"event": "user", "text": "嗯啊", "parse_data": {"intent": {"name": "nlu_fallback"}}}] * misses_before
    dispatcher, _ = await run_action(ActionHandleFallback(), make_tracker("nlu_fallback", events=before, text="呃呃"))
    assert responses(dispatcher) == [expected]


async def test_feedback_is_stored_per_answer_and_can_change(knowledge_factory) -> None:
    up = make_tracker("feedback", [("rating", "up"), ("answer_id", "price-1234abcd")], text="/feedback")
    dispatcher, _ = await run_action(ActionSaveFeedback(), up)
    assert responses(dispatcher) == ["utter_feedback_thanks"]
    down = make_tracker("feedback", [("rating", "down"), ("answer_id", "price-1234abcd")], text="/feedback")
    dispatcher, _ = await run_action(ActionSaveFeedback(), down)
    assert responses(dispatcher) == ["utter_feedback_sorry"]
    with session_scope(knowledge_factory) as session:
        rows = session.scalars(select(Feedback)).all()
        assert [(row.message_id, row.rating) for row in rows] == [("price-1234abcd", -1)]


async def test_subscribing_to_a_near_name_asks_did_you_mean(knowledge_factory) -> None:
    tracker = make_tracker("subscribe_price_alert", [("product", "鸡旦")], text="鸡旦涨到四块五提醒我")
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), tracker)
    assert responses(dispatcher) == ["utter_did_you_mean"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == '/subscribe_price_alert{"product": "鸡蛋"}'


async def test_a_question_the_nlu_missed_is_answered_when_it_names_our_topic(knowledge_factory) -> None:
    # "良补" is a homophone of 粮补: the NLU did not place the question, search does.
    tracker = make_tracker("nlu_fallback", text="良补按哪个文件发的")
    dispatcher, events = await run_action(ActionHandleFallback(), tracker)
    assert responses(dispatcher)[0] == "utter_article" and "财农" in message(dispatcher, "utter_article")["reference"]
    assert {"event": "slot", "name": "topic", "value": "policy", "timestamp": None} in events


async def test_chatter_is_still_not_understood(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionHandleFallback(), make_tracker("nlu_fallback", text="今天吃啥好呢"))
    assert responses(dispatcher) == ["utter_default"]
    dispatcher, _ = await run_action(ActionOutOfScope(), make_tracker("out_of_scope", text="宅基地证咋补办"))
    assert responses(dispatcher) == ["utter_out_of_scope"]
