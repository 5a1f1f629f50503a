"""A price reads the same in the answer to a question and in the alert pushed about the same record."""
from __future__ import annotations

import datetime as dt

from actions.prices import ActionAnswerPrice
from knowledge.db import session_scope
from knowledge.outbox.price_alerts import DuePriceMessage
from knowledge.prices.by_place import price_in_place
from tests.actions.conftest import make_tracker, message, run_action
from wording import price_push_text, response_text


def _answered(dispatcher, response: str) -> str:
    """The text Rasa sends for this response: domain.yml's template filled with the action's values."""
    return response_text(response, **message(dispatcher, response))


async def _answer_and_alert(knowledge_factory, product: str, region: str = None) -> tuple:
    slots = {"product": product, **({"place": region} if region else {})}
    entities = [("region", region)] if region else []
    dispatcher, _ = await run_action(ActionAnswerPrice(), make_tracker(entities=entities, slots=slots))
    with session_scope(knowledge_factory) as session:
        # The query the alerts ask (knowledge.outbox.price_alerts), as the price action does.
        latest = price_in_place(session, product, region, today=dt.date.today())
    alert = price_push_text(DuePriceMessage("price_alert", product, "any_change", None, latest), stale_after_days=7)
    return dispatcher, alert


async def test_the_price_answer_and_the_alert_word_the_price_alike(knowledge_factory) -> None:
    dispatcher, alert = await _answer_and_alert(knowledge_factory, "大白菜")
    answer = _answered(dispatcher, "utter_price_local")
    assert "元/斤" in answer and "来源：" in answer
    assert "北京新发地农产品批发市场的价格，仅供参考" in answer and "全国" not in answer
    assert alert.startswith("【价格提醒】" + answer)


async def test_a_wider_region_is_named_alike_in_the_answer_and_the_alert(knowledge_factory) -> None:
    dispatcher, alert = await _answer_and_alert(knowledge_factory, "大白菜", "郑州")
    fallback = _answered(dispatcher, "utter_price_region_fallback")
    answer = _answered(dispatcher, "utter_price_local")
    # One Beijing market is not the national price; every place without data is named.
    assert fallback.startswith("郑州和河南暂时没有大白菜的价格")
    assert alert.startswith("【价格提醒】" + fallback + answer)
