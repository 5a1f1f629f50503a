"""Security of the actions (issue 13): one open ticket per farmer, and no push chat taken from message metadata."""
import pytest
from sqlalchemy import select

from actions.handoff import ActionRequestHuman
from actions.subscriptions import ActionSubscribePriceAlert
from knowledge.db import session_scope
from knowledge.models import Farmer, HandoffTicket
from tests.actions.conftest import make_tracker, message, responses, run_action


def _asked(question: str) -> list:
    return [{"event": "user", "text": question, "parse_data": {"intent": {"name": "nlu_fallback"}}, "timestamp": 0.5}]


async def test_item05_request_human_reuses_the_open_ticket(knowledge_factory) -> None:
    first = make_tracker("request_human", slots={"place": "石家庄"}, text="转人工", events=_asked("宅基地怎么批"))
    dispatcher, _ = await run_action(ActionRequestHuman(), first)
    ticket_id = message(dispatcher, "utter_handoff_created")["ticket"]

    second = make_tracker("request_human", slots={"place": "石家庄"}, text="转人工", events=_asked("盖房要交钱吗"))
    dispatcher, _ = await run_action(ActionRequestHuman(), second)
    added = message(dispatcher, "utter_handoff_added")
    assert added["ticket"] == ticket_id and added["question"] == "盖房要交钱吗"
    dispatcher, _ = await run_action(ActionRequestHuman(), second)
    assert responses(dispatcher) == ["utter_handoff_added"]
    with session_scope(knowledge_factory) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert "宅基地怎么批" in ticket.question and ticket.question.count("盖房要交钱吗") == 1

        # Once answered, the next request is a new ticket.
        ticket.status = "answered"
    dispatcher, _ = await run_action(ActionRequestHuman(), second)
    assert message(dispatcher, "utter_handoff_created")["ticket"] != ticket_id


@pytest.mark.parametrize(("sender", "channel"), [("web-5f3a", "webchat"), ("tg-4242", "telegram")])
async def test_item08_push_chat_is_not_taken_from_message_metadata(knowledge_factory, sender, channel) -> None:
    # Anyone who reaches Rasa could otherwise subscribe any Telegram chat (a stranger's, a group) to pushes.
    tracker = make_tracker("subscribe_price_alert", [("product", "玉米")], text="玉米价格变了告诉我",
                           sender_id=sender, metadata={"channel": "telegram", "chat_id": "-100999"})
    dispatcher, _ = await run_action(ActionSubscribePriceAlert(), tracker)
    assert responses(dispatcher) == ["utter_subscribed"]
    with session_scope(knowledge_factory) as session:
        farmer = session.scalars(select(Farmer).where(Farmer.sender_id == sender)).one()
        # The gateway records a Telegram farmer's private chat when they write to the bot privately.
        assert (farmer.channel, farmer.chat_id) == (channel, None)
