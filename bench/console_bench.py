"""Console benchmark: the conversation list (with and without filters), a transcript and the dashboard
over a generated Rasa tracker store of 20,000 conversations (about 160,000 farmer messages and
640,000 events over 90 days), read the way the console reads it (read-only SQLite).

The tracker store is created by Rasa's own SQLTrackerStore (the real `events` schema) and filled
with rows shaped like the ones Rasa writes; it is kept under var/bench/ and reused by later runs.

Environment:
  BENCH_SCALE     fraction of the full size (default 1; 0.01 is a quick smoke run)
  BENCH_REBUILD   1 to regenerate the tracker store even when one of this scale exists
  BENCH_REPEAT    timed repetitions per measurement (default 20)

Run alone with `python -m bench console_bench`.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from sqlalchemy import create_engine, insert

from bench.knowledge_bench import percentiles
from knowledge import migrate
from knowledge.conversations.dashboard import dashboard_figures
from knowledge.conversations.tracker import EVENTS, ConversationFilter, TrackerReader
from knowledge.db import make_engine, make_session_factory, session_scope

FULL_CONVERSATIONS = 20_000
DAYS = 90
TODAY = dt.date(2026, 11, 22)
BENCH_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"
QUESTIONS = [
    ("ask_price", "玉米多少钱一斤", "玉米"), ("ask_price", "今天猪肉啥价", "猪肉"),
    ("ask_price_trend", "鸡蛋最近涨没涨", "鸡蛋"),
    ("ask_policy", "粮补一亩多少钱", None), ("ask_pension", "养老保险交多少", None),
    ("ask_medical_insurance", "医保啥时候交", None), ("nlu_fallback", "俺们这嘎达苞米咋卖", None),
    ("request_human", "找人工", None), ("greet", "你好", None),
]


def _events(sender: str, start: float, rng: random.Random) -> List[Dict[str, Any]]:
    rows: List[Dict[str, Any]] = []
    at = start
    for _ in range(rng.randint(4, 12)):
        intent, text, product = rng.choice(QUESTIONS)
        confidence = round(rng.uniform(0.3, 0.99), 3)
        entities = [{"entity": "product", "start": 0, "end": len(product), "value": product}] if product else []
        parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities,
                 "intent_ranking": [{"name": intent, "confidence": confidence}]}
        rows.append({"sender_id": sender, "type_name": "user", "timestamp": at, "intent_name": intent,
                     "action_name": None, "data": json.dumps({"event": "user", "timestamp": at, "text": text,
                                                              "parse_data": parse, "input_channel": "rest",
                                                              "metadata": {}}, ensure_ascii=False)})
        action = {"nlu_fallback": "action_handle_fallback", "request_human": "action_request_human"}.get(
            intent, "action_price")
        rows.append({"sender_id": sender, "type_name": "action", "timestamp": at + 1, "intent_name": None,
                     "action_name": action, "data": json.dumps({"event": "action", "name": action})})
        rows.append({"sender_id": sender, "type_name": "bot", "timestamp": at + 1.5, "intent_name": None,
                     "action_name": None, "data": json.dumps({"event": "bot", "text": "（回答）", "data": {}},
                                                              ensure_ascii=False)})
        rows.append({"sender_id": sender, "type_name": "action", "timestamp": at + 2, "intent_name": None,
                     "action_name": "action_listen", "data": json.dumps({"event": "action",
                                                                         "name": "action_listen"})})
        at += rng.uniform(20, 600)
    return rows


def build_tracker(path: Path, conversations: int) -> int:
    """Create the tracker store with Rasa's schema and fill it; returns the number of events."""
    from rasa.core.tracker_store import SQLTrackerStore

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    SQLTrackerStore(dialect="sqlite", db=str(path)).engine.dispose()
    engine = create_engine(f"sqlite:///{path}", future=True)
    rng = random.Random(6)
    first_day = dt.datetime.combine(TODAY - dt.timedelta(days=DAYS - 1), dt.time(), dt.timezone.utc).timestamp()
    total = 0
    with engine.begin() as connection:
        batch: List[Dict[str, Any]] = []
        for number in range(conversations):
            sender = f"tg-{100000 + number}" if number % 3 else f"web-{number:06x}"
            batch.extend(_events(sender, first_day + rng.uniform(0, DAYS * 86400 - 7200), rng))
            if len(batch) > 20000:
                connection.execute(insert(EVENTS), batch)
                total += len(batch)
                batch = []
        if batch:
            connection.execute(insert(EVENTS), batch)
            total += len(batch)
    engine.dispose()
    return total


def _time(call: Callable[[], Any], repeat: int) -> Dict[str, float]:
    call()  # warm the caches, as a running console would be
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def main() -> Dict[str, Any]:
    """Generate (or reuse) the tracker store and time the console's reads; latencies in milliseconds."""
    scale = float(os.environ.get("BENCH_SCALE", "1") or 1)
    repeat = int(os.environ.get("BENCH_REPEAT", "20"))
    conversations = max(100, round(FULL_CONVERSATIONS * scale))
    tracker_path = BENCH_DIR / f"console_tracker_{conversations}.db"
    built = None
    if not tracker_path.exists() or os.environ.get("BENCH_REBUILD", "") in ("1", "true", "yes"):
        started = time.perf_counter()
        events = build_tracker(tracker_path, conversations)
        built = {"events": events, "seconds": round(time.perf_counter() - started, 1)}
    knowledge_path = BENCH_DIR / "console_knowledge.db"
    knowledge_engine = make_engine(f"sqlite:///{knowledge_path}")
    migrate.upgrade(knowledge_engine)
    factory = make_session_factory(knowledge_engine)
    reader = TrackerReader(f"sqlite:///{tracker_path}")
    week_ago = dt.datetime.combine(TODAY - dt.timedelta(days=7), dt.time(), dt.timezone.utc).timestamp()

    def page(wanted: ConversationFilter) -> Callable[[], Any]:
        return lambda: (reader.count_conversations(wanted), reader.conversations(wanted, 50, 0))

    def dashboard() -> Any:
        with session_scope(factory) as session:
            return dashboard_figures(session, reader, TODAY, 30)

    try:
        results = {
            "list_all": _time(page(ConversationFilter()), repeat),
            "list_low_confidence": _time(page(ConversationFilter(confidence_below=0.5)), repeat),
            "list_fell_back_telegram_last_week": _time(
                page(ConversationFilter(fell_back=True, channel="telegram", since=week_ago)), repeat),
            "list_intent": _time(page(ConversationFilter(intent="ask_policy")), repeat),
            "transcript": _time(lambda: reader.transcript("tg-100001"), repeat),
            "dashboard_30_days": _time(dashboard, max(3, repeat // 4)),
        }
    finally:
        reader.close()
        knowledge_engine.dispose()
    return {"ok": True, "conversations": conversations, "built": built, "latency_ms": results}


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
