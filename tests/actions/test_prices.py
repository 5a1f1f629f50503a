"""Price and trend actions: the answer cites date and source, names the region, answers as of a day asked
for and in the unit asked; the price form checks the product it is given."""
import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.asked_dates import as_of_date
from actions.prices import ActionAnswerPrice, ActionAskProduct, ValidatePriceForm
from actions.trends import ActionAnswerPriceTrend
from tests.actions.conftest import DOMAIN, make_tracker, message, responses, run_action, slots_set


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        # The price form ended without a product: the farmer's other question was answered instead.
        ({}, []),
        ({"product": "玉米"}, ["utter_price", "utter_price_stale", "utter_feedback"]),
        ({"product": "苞谷"}, ["utter_price", "utter_price_stale", "utter_feedback"]),
        ({"product": "不存在的菜"}, ["utter_price_no_data"]),
    ],
)
async def test_price_answers(knowledge_factory, slots, expected) -> None:
    dispatcher, events = await run_action(ActionAnswerPrice(), make_tracker(slots=slots))
    assert responses(dispatcher) == expected
    # An answer leaves its context for a follow-up ("一公斤呢"); no answer leaves none.
    assert slots_set(events) == ({"topic": "price", "place": None, "unit": "元/斤", "date": None} if expected else {})


async def test_price_answer_cites_date_and_source(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionAnswerPrice(), make_tracker(slots={"product": "大白菜"}))
    # Only 新发地 has cabbage prices: one local market, named as such, never the national price.
    price = message(dispatcher, "utter_price_local")
    assert price["product"] == "大白菜" and price["scope"] == ""
    assert price["market"] == "北京新发地农产品批发市场"
    assert price["date"] and price["source"] and price["market"]
    assert "元/斤" in price["price"]
    assert message(dispatcher, "utter_feedback")["answer_id"].startswith("price-")


async def test_region_without_data_says_which_region_answers(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionAnswerPrice(), make_tracker(
        entities=[("region", "郑州")], slots={"product": "大白菜", "place": "郑州"}))
    fallback = message(dispatcher, "utter_price_region_fallback")
    # Neither 郑州 nor its province has 大白菜: both are named (the seed's one market is 北京新发地).
    assert fallback["region"] == "郑州和河南"
    assert fallback["scope_name"]


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


async def test_trend_names_direction_and_source(knowledge_factory) -> None:
    tracker = make_tracker("ask_price_trend", slots={"product": "猪肉"}, text="猪肉价格走势")
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), tracker)
    trend = message(dispatcher, "utter_price_trend")
    # Monthly national bulletins: the last two records, 24.63 → 20.71 元/公斤.
    assert (trend["first_date"], trend["last_date"]) == ("2024-10-31", "2025-03-04")
    assert (trend["first_price"], trend["last_price"]) == ("12.32元/斤", "10.36元/斤")
    assert trend["movement"] == "跌了1.96元/斤（15.9%）"
    assert trend["scope"] == "（全国）"
    assert trend["source"]


async def test_comparison_between_places(knowledge_factory) -> None:
    tracker = make_tracker(
        "ask_price_trend",
        entities=[("product", "大白菜"), ("region", "北京"), ("region", "河北")],
        slots={"product": "大白菜", "place": "北京"},
        text="北京和河北大白菜哪里贵",
    )
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), tracker)
    # Two places named: a comparison of those places, not a trend. Only Beijing's market has cabbage prices in
    # the seed: 河北 says so, and nothing is called highest or lowest.
    assert responses(dispatcher) == ["utter_price_place_comparison", "utter_feedback"]
    comparison = message(dispatcher, "utter_price_place_comparison")
    assert comparison["lines"] == "\n北京：均价0.58元/斤（北京市1个市场，2025年2月8日）\n河北：暂时没有数据"
    assert comparison["verdict"] == "只有北京有数据，没法比较。"


@pytest.mark.parametrize(
    ("text", "unit"),
    [("玉米多少钱一斤", "元/斤"), ("玉米一公斤多少钱", "元/公斤"), ("玉米多少钱", "元/斤"), ("玉米每吨啥价", "元/吨")],
)
async def test_price_in_the_unit_asked(knowledge_factory, text, unit) -> None:
    tracker = make_tracker(slots={"product": "玉米"}, entities=[("product", "玉米")], text=text)
    dispatcher, _ = await run_action(ActionAnswerPrice(), tracker)
    assert message(dispatcher, "utter_price")["price"].endswith(unit)


async def test_pork_per_kilogram_is_twice_per_jin(knowledge_factory) -> None:
    per_jin, _ = await run_action(ActionAnswerPrice(), make_tracker(slots={"product": "猪肉"}, text="猪肉多少钱一斤"))
    per_kg, _ = await run_action(ActionAnswerPrice(), make_tracker(slots={"product": "猪肉"}, text="猪肉一公斤多少"))
    # 2025-03-04 national average: 20.71 元/公斤.
    assert "20.71元/公斤" in message(per_kg, "utter_price")["price"]
    assert "10.36元/斤" in message(per_jin, "utter_price")["price"]


@pytest.mark.parametrize(
    ("words", "date", "price"),
    [
        ("2024年", "2024-10-31", "12.32元/斤"),  # 24.63 元/公斤 on the last bulletin of 2024
        ("2023年3月", "2023-03-28", "10.13元/斤"),  # 20.26 元/公斤
    ],
)
async def test_price_as_of_a_day_asked_for(knowledge_factory, words, date, price) -> None:
    tracker = make_tracker("inform", entities=[("date", words)], slots={"product": "猪肉"}, text=f"{words}的呢")
    dispatcher, _ = await run_action(ActionAnswerPrice(), tracker)
    assert responses(dispatcher)[:2] == ["utter_price_as_of", "utter_price"]
    answer = message(dispatcher, "utter_price")
    assert answer["date"] == date
    assert price in answer["price"]
    # Only the age against the day asked for is said, never the age against today.
    assert "utter_price_stale" not in responses(dispatcher)


async def test_price_as_of_before_any_record_says_so_and_gives_the_newest(knowledge_factory) -> None:
    tracker = make_tracker("inform", entities=[("date", "2019年")], slots={"product": "猪肉"}, text="2019年的呢")
    dispatcher, _ = await run_action(ActionAnswerPrice(), tracker)
    assert responses(dispatcher)[0] == "utter_price_none_before"
    assert message(dispatcher, "utter_price")["date"] == "2025-03-04"
    assert "utter_price_stale" in responses(dispatcher)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("上个月", dt.date(2026, 10, 31)),
        ("上上个月", dt.date(2026, 9, 30)),
        ("去年", dt.date(2025, 12, 31)),
        ("前年", dt.date(2024, 12, 31)),
        ("昨天", dt.date(2026, 11, 26)),
        ("大前天", dt.date(2026, 11, 24)),
        ("上周", dt.date(2026, 11, 20)),
        ("2024年", dt.date(2024, 12, 31)),
        ("2025年3月", dt.date(2025, 3, 31)),
        ("3月", dt.date(2026, 3, 31)),
        ("12月", dt.date(2025, 12, 31)),  # December has not come yet this year: last December
        ("2月30日", None),
        ("今天", None),
        ("最近", None),
        ("今年", None),
        ("", None),
    ],
)
def test_as_of_date(words, expected) -> None:
    assert as_of_date(words, dt.date(2026, 11, 27)) == expected


@pytest.mark.parametrize(
    ("value", "expected", "said"),
    [("苞米", "玉米", []), ("玉米", "玉米", []), ("火星菜", None, ["utter_unknown_product"])],
)
def test_price_form_checks_the_product(knowledge_factory, value, expected, said) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidatePriceForm().validate_product(value, dispatcher, make_tracker("inform"), DOMAIN)
    assert result == {"product": expected}
    assert responses(dispatcher) == said


@pytest.mark.parametrize(
    ("intent", "entities", "expected"),
    [
        ("ask_price", [], None),  # "查价格" after a corn answer: ask which product again
        ("ask_price", [("region", "郑州")], "玉米"),  # "郑州多少钱": a follow-up on corn
        ("inform", [("date", "上个月")], "玉米"),  # "上个月呢"
    ],
)
def test_price_form_keeps_the_last_product_only_for_follow_ups(knowledge_factory, intent, entities, expected) -> None:
    tracker = make_tracker(intent, entities=entities, slots={"product": "玉米"})
    result = ValidatePriceForm().validate_product("玉米", CollectingDispatcher(), tracker, DOMAIN)
    assert result == {"product": expected}


async def test_price_form_ends_quietly_when_the_farmer_asked_something_else(knowledge_factory) -> None:
    dispatcher, events = await run_action(ValidatePriceForm(), make_tracker("ask_policy", text="粮补啥时候发"))
    assert events == [{"event": "slot", "name": "requested_slot", "value": None, "timestamp": None},
                      {"event": "active_loop", "name": None, "timestamp": None}]
    assert dispatcher.messages == []


def _buttons(dispatcher) -> list:
    return [button for item in dispatcher.messages for button in item.get("buttons") or []]


@pytest.mark.parametrize(
    ("value", "product"),
    [("包米", "玉米"), ("鸡旦", "鸡蛋"), ("王米", "玉米"), ("白才", "大白菜"), ("生朱", "生猪")],
)
async def test_a_near_name_gets_did_you_mean_with_a_button_not_not_found(knowledge_factory, value, product) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidatePriceForm().validate_product(value, dispatcher, make_tracker("ask_price", [("product", value)],
                                                                                text=f"{value}多少钱"), DOMAIN)
    assert result == {"product": None} and responses(dispatcher) == []
    # The form then asks its question through action_ask_product.
    tracker = make_tracker("ask_price", [("product", value)], text=f"{value}多少钱")
    dispatcher, _ = await run_action(ActionAskProduct(), tracker)
    assert responses(dispatcher) == ["utter_did_you_mean"]
    said = message(dispatcher, "utter_did_you_mean")
    assert (said["product"], said["names"].split("、")[0]) == (value, product)
    assert _buttons(dispatcher)[0] == {"title": product, "payload": f'/ask_price{{"product": "{product}"}}'}


@pytest.mark.parametrize(
    ("text", "first"),
    [("鸡旦啥价", "utter_did_you_mean"), ("查价格", "utter_ask_product"), ("多少钱一斤", "utter_ask_product")],
)
async def test_the_form_question_offers_a_product_the_message_nearly_names(knowledge_factory, text, first) -> None:
    dispatcher, _ = await run_action(ActionAskProduct(), make_tracker("ask_price", text=text))
    assert responses(dispatcher) == [first]


async def test_a_trend_question_with_a_near_name_asks_the_trend_again(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), make_tracker("ask_price_trend", text="猪内跌了吗"))
    assert responses(dispatcher) == ["utter_did_you_mean"]
    assert _buttons(dispatcher)[0]["payload"] == '/ask_price_trend{"product": "猪肉"}'


VEGETABLES_WITH_PRICES = {"大白菜", "小白菜", "圆白菜", "芹菜", "菠菜", "莴笋", "韭菜", "油菜", "香菜", "茴香", "西芹",
                          "紫甘蓝", "团生菜", "苦菊", "油麦菜", "散菜花", "绿菜花", "大蒜", "娃娃菜"}


@pytest.mark.parametrize(
    ("product", "response", "allowed"),
    [
        # No 水果 has prices in the seed: say so, and suggest nothing of another kind.
        ("苹果", "utter_price_no_data_alone", None),
        ("富士", "utter_price_no_data_alone", None),
        # 土豆 and 红薯 are 蔬菜 without prices: only vegetables that have prices are suggested.
        ("土豆", "utter_price_no_data_same_kind", VEGETABLES_WITH_PRICES),
        ("红苕", "utter_price_no_data_same_kind", VEGETABLES_WITH_PRICES),
    ],
)
async def test_no_data_suggests_the_same_kind_only(knowledge_factory, product, response, allowed) -> None:
    dispatcher, _ = await run_action(ActionAnswerPrice(), make_tracker(slots={"product": product}))
    assert responses(dispatcher) == [response]
    if allowed is not None:
        suggested = set(message(dispatcher, response)["suggestions"].split("、"))
        assert suggested and suggested <= allowed


@pytest.mark.parametrize(
    ("text", "entities", "slots", "expected"),
    [
        # "一公斤呢" after a price in 斤: the same product, place and date, in 公斤.
        ("一公斤呢", [], {"unit": "元/斤", "place": "北京", "date": "上个月"},
         {"place": "北京", "unit": "元/公斤", "date": "上个月"}),
        # "上个月呢" after a price in 公斤: the date changes, the unit stays.
        ("上个月呢", [("date", "上个月")], {"unit": "元/公斤"}, {"place": None, "unit": "元/公斤", "date": "上个月"}),
        # "那河南呢": another place; "全国平均呢": the national figure, whatever place was asked before.
        ("那河南呢", [("region", "河南")], {"place": "浙江"}, {"place": "河南", "unit": "元/斤", "date": None}),
        ("全国平均呢", [], {"place": "浙江"}, {"place": None, "unit": "元/斤", "date": None}),
    ],
)
async def test_a_follow_up_keeps_what_it_does_not_change(knowledge_factory, text, entities, slots, expected) -> None:
    tracker = make_tracker("inform", entities, {"product": "猪肉", "topic": "price", **slots}, text=text)
    _, events = await run_action(ActionAnswerPrice(), tracker)
    assert slots_set(events) == {"topic": "price", **expected}


async def test_a_new_question_starts_afresh(knowledge_factory) -> None:
    # "牛肉多少钱" after "北京猪肉上个月一公斤多少": newest price, in 斤, no place.
    tracker = make_tracker("ask_price", [("product", "牛肉")], text="牛肉多少钱",
                           slots={"product": "牛肉", "topic": "price", "place": "北京", "unit": "元/公斤",
                                  "date": "上个月"})
    _, events = await run_action(ActionAnswerPrice(), tracker)
    assert slots_set(events) == {"topic": "price", "place": None, "unit": "元/斤", "date": None}


@pytest.mark.parametrize("text", ["油价最近涨了没", "房价跌了吗", "汽油的价格多少"])
async def test_the_price_of_something_that_is_no_farm_product_is_not_found(knowledge_factory, text) -> None:
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), make_tracker("ask_price_trend", text=text))
    assert responses(dispatcher) == ["utter_unknown_product"]
    dispatcher, _ = await run_action(ActionAskProduct(), make_tracker("ask_price", text=text))
    assert responses(dispatcher) == ["utter_unknown_product"]


@pytest.mark.parametrize(("text", "thing"),
                         [("柴油涨价了没有", "柴油价"), ("电降价没", "电价"), ("煤炭涨价没", "煤炭价")])
async def test_a_price_change_is_not_part_of_the_thing_priced(knowledge_factory, text, thing) -> None:
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), make_tracker("ask_price_trend", text=text))
    assert [message.get("product") for message in dispatcher.messages] == [thing]


@pytest.mark.parametrize("text", ["最近价格涨了没", "今天的价钱多少", "查个价格", "帮我问下价"])
async def test_a_price_question_without_a_thing_still_asks_which_product(knowledge_factory, text) -> None:
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), make_tracker("ask_price_trend", text=text))
    assert responses(dispatcher) == ["utter_ask_trend_product"]


async def test_where_is_corn_cheapest_with_only_national_figures_ranks_nothing(knowledge_factory) -> None:
    # Issue 15: "哪里的玉米便宜" listed one local market under a "全国参考". With the seed's national figures
    # only, nothing is called highest or lowest and the reference is the national figure, named.
    tracker = make_tracker("ask_price_trend", entities=[("product", "玉米")], slots={"product": "玉米"},
                           text="哪里的玉米便宜")
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), tracker)
    comparison = message(dispatcher, "utter_price_comparison")
    assert comparison["extremes"] == "还没有各地市场的数据，比不出哪里高哪里低。"
    assert comparison["reference"] == "全国参考：1.02元/斤（玉米主产区批发市场）。"
    assert comparison["coverage"] == "只有全国数据"


async def test_one_place_found_twice_is_a_trend_not_a_comparison(knowledge_factory) -> None:
    # The NLU's two extractors may both tag 石家庄: "石家庄生猪最近涨了没" still asks whether it went up or down.
    found_twice = [("product", "生猪"), ("region", "石家庄"), ("region", "石家庄")]
    tracker = make_tracker("ask_price_trend", entities=found_twice,
                           slots={"product": "生猪", "place": "石家庄"}, text="石家庄生猪最近涨了没")
    dispatcher, _ = await run_action(ActionAnswerPriceTrend(), tracker)
    assert "utter_price_comparison" not in responses(dispatcher)
