""""我是藁城的" sets the farmer's home region; a shared name asks which; an unknown one says so and stores nothing."""
from __future__ import annotations

import json

from actions.home_region import ActionSetHomeRegion
from knowledge.db import session_scope
from knowledge.people.farmers import find_farmer
from tests.actions.conftest import make_tracker, message, responses, run_action


async def test_the_farmers_own_words_set_their_home(knowledge_factory) -> None:
    tracker = make_tracker("inform_home", [("region", "藁城")], text="我是藁城的")
    dispatcher, _ = await run_action(ActionSetHomeRegion(), tracker)
    assert message(dispatcher, "utter_home_region_set")["place"] == "藁城区"
    with session_scope(knowledge_factory) as session:
        assert find_farmer(session, "farmer-1").region.name == "藁城区"


async def test_a_name_several_places_share_asks_which_and_stores_nothing_yet(knowledge_factory) -> None:
    tracker = make_tracker("inform_home", [("region", "朝阳")], text="我是朝阳的")
    dispatcher, _ = await run_action(ActionSetHomeRegion(), tracker)
    which = message(dispatcher, "utter_which_home")
    labels = [json.loads(button["payload"][len("/inform_home"):])["region"] for button in which["buttons"]]
    assert "北京市朝阳区" in labels and len(labels) == len(set(labels)) >= 3
    with session_scope(knowledge_factory) as session:
        farmer = find_farmer(session, "farmer-1")
        assert farmer is None or farmer.region is None
    # The button names one place: stored.
    dispatcher, _ = await run_action(ActionSetHomeRegion(), make_tracker("inform_home", [("region", "北京市朝阳区")],
                                                                        text='/inform_home{"region":"北京市朝阳区"}'))
    assert responses(dispatcher) == ["utter_home_region_set"]


async def test_an_unknown_place_is_said_and_nothing_stored(knowledge_factory) -> None:
    dispatcher, _ = await run_action(ActionSetHomeRegion(), make_tracker("inform_home", text="我是火星的"))
    assert responses(dispatcher) == ["utter_home_region_unknown"]
    with session_scope(knowledge_factory) as session:
        farmer = find_farmer(session, "farmer-1")
        assert farmer is None or farmer.region is None
