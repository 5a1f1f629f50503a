"""The demo conversations of the console tests and the screenshots, written into a tracker store by Rasa's own
SQLTrackerStore, so the schema is the real one."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

# Two days before the demo's "today" (scripts/demo_knowledge.py, 2026-11-22), in UTC.
DAY = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc).timestamp()
PRICE_ANSWER_ID = "price-1a2b3c4d"
SCRIPT_MESSAGE = "<script>alert(1)</script>我电话13812345678，身份证110101199003071234"


def user(text: str, intent: str, confidence: float, at: float, entities: Optional[List[Dict[str, Any]]] = None,
         metadata: Optional[Dict[str, Any]] = None) -> UserUttered:
    """A farmer message as Rasa records it after NLU."""
    entities = entities or []
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return UserUttered(text, {"name": intent, "confidence": confidence}, entities, parse_data, timestamp=at,
                       input_channel="rest", metadata=metadata or {})


def bot(text: str, at: float, buttons: Optional[List[Dict[str, str]]] = None) -> BotUttered:
    """A bot reply (with buttons when given)."""
    return BotUttered(text, {"buttons": buttons} if buttons else {}, timestamp=at)


def action(name: str, at: float) -> ActionExecuted:
    """An executed action."""
    return ActionExecuted(name, timestamp=at)


def product(value: str, start: int, end: int) -> Dict[str, Any]:
    """A product entity as DIET reports it."""
    return {"entity": "product", "start": start, "end": end, "value": value, "extractor": "DIETClassifier"}


def conversations() -> Dict[str, List[Event]]:
    """Three farmers: a price question rated 👎, a fallback handed to a person, a policy question."""
    feedback_buttons = [
        {"title": "👍 有用", "payload": f'/feedback{{"rating":"up","answer_id":"{PRICE_ANSWER_ID}"}}'},
        {"title": "👎 没用", "payload": f'/feedback{{"rating":"down","answer_id":"{PRICE_ANSWER_ID}"}}'},
    ]
    return {
        "tg-1001": [
            action("action_session_start", DAY), SessionStarted(timestamp=DAY), action("action_listen", DAY),
            user("玉米多少钱一斤", "ask_price", 0.97, DAY + 10, [product("玉米", 0, 2)],
                 {"channel": "telegram", "chat_id": "1001", "display_name": "老王", "region": "藁城区"}),
            action("action_price", DAY + 11),
            bot("玉米 最新价格 1.16 元/斤（来源：农业农村部，发布日期 2024-07-31）", DAY + 11),
            bot("这个回答有用吗？", DAY + 11.5, feedback_buttons),
            action("action_listen", DAY + 12),
            user('/feedback{"rating":"down","answer_id":"price-1a2b3c4d"}', "feedback", 1.0, DAY + 20),
            action("action_save_feedback", DAY + 21),
            bot("抱歉没帮上忙。要不要把问题转给信息员？", DAY + 21),
        ],
        "web-5f3a": [
            action("action_session_start", DAY + 3600), SessionStarted(timestamp=DAY + 3600),
            user(SCRIPT_MESSAGE, "nlu_fallback", 0.31, DAY + 3610),
            action("action_handle_fallback", DAY + 3611),
            bot("抱歉，我没看懂。能换个说法吗？", DAY + 3611),
            user("找人工", "request_human", 0.93, DAY + 3620),
            action("action_request_human", DAY + 3621),
            bot("已转给藁城区的信息员，工单号 1。", DAY + 3621),
        ],
        "tg-2002": [
            action("action_session_start", DAY + 86400), SessionStarted(timestamp=DAY + 86400),
            user("俺家粮补咋还没到", "ask_policy", 0.55, DAY + 86410,
                 [{"entity": "policy_topic", "start": 2, "end": 4, "value": "耕地地力保护补贴"}]),
            action("action_policy", DAY + 86411),
            bot("耕地地力保护补贴一般在6月底前发放到一卡通。", DAY + 86411),
        ],
    }


def write_tracker_store(path: str) -> str:
    """Write the conversations into a SQLite tracker store at `path` through Rasa; returns its URL."""
    store = SQLTrackerStore(dialect="sqlite", db=path)

    async def save_all() -> None:
        for sender_id, events in conversations().items():
            await store.save(DialogueStateTracker.from_events(sender_id, events))

    asyncio.run(save_all())
    store.engine.dispose()
    return f"sqlite:///{path}"
