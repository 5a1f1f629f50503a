"""Price questions naming any place of China: the answer says which places had no data and which answers
("巩义和河南暂时没有…，下面是…"), and a name several places share asks which, with a button per place."""
import json

from actions.prices import ActionAnswerPrice
from tests.actions.conftest import make_tracker, message, responses, run_action
from wording import response_text


async def test_a_county_without_data_names_itself_and_its_province_and_the_wider_scope(knowledge_factory) -> None:
    tracker = make_tracker(entities=[("region", "巩义")], slots={"product": "大白菜", "place": "巩义"})
    dispatcher, _ = await run_action(ActionAnswerPrice(), tracker)
    fallback = message(dispatcher, "utter_price_region_fallback")
    text = response_text("utter_price_region_fallback", **{k: fallback[k] for k in ("region", "product", "scope_name")})
    assert text.startswith("巩义、郑州和河南暂时没有大白菜的价格，下面是")
    # The one Beijing market that has cabbage answers, named as local (issue 15).
    assert "utter_price_local" in responses(dispatcher)


async def test_a_name_several_places_share_asks_which_with_a_button_each(knowledge_factory) -> None:
    tracker = make_tracker(entities=[("region", "朝阳")], slots={"product": "玉米", "place": "朝阳"})
    dispatcher, events = await run_action(ActionAnswerPrice(), tracker)
    assert responses(dispatcher) == ["utter_which_place"]
    which = message(dispatcher, "utter_which_place")
    titles = [button["title"] for button in which["buttons"]]
    assert {"北京市朝阳区", "吉林省长春市朝阳区", "辽宁省朝阳市"} <= set(titles)
    payload = which["buttons"][0]["payload"]
    assert payload.startswith("/ask_price")
    assert json.loads(payload[len("/ask_price"):]) == {"product": "玉米", "region": titles[0]}
    assert events == []
    # The button's label names one place, answered without asking again.
    dispatcher, _ = await run_action(ActionAnswerPrice(),
                                     make_tracker(entities=[("region", "北京市朝阳区")],
                                                  slots={"product": "玉米", "place": "北京市朝阳区"}))
    assert "utter_which_place" not in responses(dispatcher)
    assert {"utter_price", "utter_price_local", "utter_price_several"} & set(responses(dispatcher))
