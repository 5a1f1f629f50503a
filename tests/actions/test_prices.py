"""Price and trend actions: the answer cites date and source, names the region, and asks when no product."""
import pytest

from actions.prices import ActionAnswerPrice
from actions.trends import ActionAnswerPriceTrend
from knowledge import prices as price_queries
from tests.actions.conftest import make_tracker, message, responses, run_action

needs_trends = pytest.mark.skipif(not hasattr(price_queries, "price_trend"), reason="knowledge has no price_trend yet")


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ({}, ["utter_ask_product"]),
        ({"product": "玉米"}, ["utter_price", "utter_price_stale", "utter_feedback"]),
        ({"product": "苞谷"}, ["utter_price", "utter_price_stale", "utter_feedback"]),
        ({"product": "不存在的菜"}, ["utter_price_no_data"]),
    ],
)
async def test_price_answers(knowledge_factory, slots, expected) -> None:
    dispatcher, events = await run_action(ActionAnswerPrice(), make_tracker(slots=slots))
    assert responses(dispatcher) == expected
    assert events == []


async def test_price_answer_cites_date_and_source(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionAnswerPrice(), make_tracker(slots={"product": "大白菜"}))
    price = message(dispatcher, "utter_price")
    assert price["product"] == "大白菜"
    assert price["date"] and price["source"] and price["market"]
    assert "元/斤" in price["price"]
    assert message(dispatcher, "utter_feedback")["answer_id"].startswith("price-")


async def test_region_without_data_says_which_region_answers(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionAnswerPrice(), make_tracker(slots={"product": "大白菜", "region": "郑州"}))
    fallback = message(dispatcher, "utter_price_region_fallback")
    assert fallback["region"] == "郑州"
    assert fallback["scope_name"]


@needs_trends
@pytest.mark.parametrize(
    ("slots", "text", "first"),
    [
        ({}, "最近涨了没", "utter_ask_trend_product"),
        ({"product": "猪肉"}, "猪肉最近涨了还是跌了", "utter_price_trend"),
        ({"product": "不存在的菜"}, "涨了没", "utter_price_no_data"),
    ],
)
async def test_trend_answers(knowledge_factory, slots, text, first) -> None:
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), make_tracker("ask_price_trend", slots=slots, text=text))
    assert responses(dispatcher)[0] == first


@needs_trends
async def test_trend_names_direction_and_source(knowledge_factory) -> None:
    tracker = make_tracker("ask_price_trend", slots={"product": "猪肉"}, text="猪肉价格走势")
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), tracker)
    trend = message(dispatcher, "utter_price_trend")
    assert trend["source"] and trend["first_date"] < trend["last_date"]
    assert any(word in trend["movement"] for word in ("涨", "跌", "持平"))


@needs_trends
async def test_comparison_between_places(knowledge_factory) -> None:
    tracker = make_tracker(
        "ask_price_trend",
        entities=[("product", "大白菜"), ("region", "北京"), ("region", "河北")],
        slots={"product": "大白菜", "region": "北京"},
        text="北京和河北大白菜哪里贵",
    )
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), tracker)
    assert responses(dispatcher)[0] in ("utter_price_comparison", "utter_price_trend", "utter_price_trend_single")
    assert responses(dispatcher)[-1] == "utter_feedback"
