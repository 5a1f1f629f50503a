"""Actions run on worker threads (actions/worker_threads.py): a blocked action leaves the server's loop serving,
and our real actions answer through the threaded executor as through Rasa SDK's own."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker, endpoint
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions import worker_threads
from actions.worker_threads import ThreadedActionExecutor
from tests.actions.conftest import DOMAIN, make_tracker


def _call(action_name: str, tracker: Tracker) -> Dict[str, Any]:
    state = {"sender_id": tracker.sender_id, "slots": tracker.slots, "latest_message": tracker.latest_message,
             "events": tracker.events, "paused": False, "followup_action": None, "active_loop": {},
             "latest_action_name": "action_listen"}
    return {"next_action": action_name, "sender_id": tracker.sender_id, "domain": DOMAIN, "tracker": state}


async def test_an_action_blocked_on_a_query_does_not_stop_another() -> None:
    # The first action blocks its thread as a slow SQLAlchemy query does; the second is what releases it. On
    # the server's event loop (Rasa SDK's own executor) the second would never start and the first time out.
    released = threading.Event()
    seen: List[bool] = []

    class BlockedAction(Action):
        def name(self) -> str:
            return "action_blocked"

        async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
            seen.append(released.wait(timeout=30))
            return []

    class ReleasingAction(Action):
        def name(self) -> str:
            return "action_releasing"

        async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
            released.set()
            dispatcher.utter_message(text="好了")
            return []

    executor = ThreadedActionExecutor(threads=2)
    executor.register_action(BlockedAction)
    executor.register_action(ReleasingAction)
    tracker = make_tracker("greet")
    blocked = asyncio.ensure_future(executor.run(_call("action_blocked", tracker)))
    await asyncio.sleep(0)  # the blocked action is on its thread before the releasing one is sent
    answered = await executor.run(_call("action_releasing", tracker))
    assert answered is not None and answered["responses"][0]["text"] == "好了"
    assert await blocked == {"events": [], "responses": []}
    assert seen == [True]


async def test_real_actions_answer_as_with_rasa_sdk_s_own_executor(knowledge_factory) -> None:
    call = _call("action_answer_price", make_tracker(slots={"product": "玉米"}))
    threaded = ThreadedActionExecutor(threads=2)
    threaded.register_package("actions")
    plain = ActionExecutor()
    plain.register_package("actions")
    ours, theirs = await threaded.run(call), await plain.run(call)
    assert ours is not None and theirs is not None and ours["responses"]
    # Each answer gets its own feedback id; everything else is the same.
    for answer in (ours, theirs):
        for response in answer["responses"]:
            response.pop("answer_id", None)
    assert ours == theirs


def test_install_makes_rasa_sdk_s_app_use_it(monkeypatch) -> None:
    monkeypatch.setattr(endpoint, "ActionExecutor", endpoint.ActionExecutor)  # both undone after the test
    monkeypatch.setattr(endpoint, "create_app", endpoint.create_app)
    worker_threads.install()
    assert endpoint.ActionExecutor is ThreadedActionExecutor
