"""Load through the web chat: farmers talking at once, each sending its next message when the last was answered.

    python -m bench load_bench                 # 20 and 200 farmers, 60 s each, plus 200 without admission control
    LOAD_BENCH_SECONDS=20 LOAD_BENCH_FARMERS=20,200 python -m bench load_bench

The gateway is the real one (`python -m bot` in its own process, on a fresh SQLite knowledge DB under
var/bench/load/). Rasa is a stand-in (bench/_paced_rasa.py, its own process) answering one message at a time at
a steady pace (LOAD_BENCH_RASA_SECONDS, default 0.09 s: the ~11 messages a second issue 17 measured for one
farmer on the real stack), because what is measured is the gateway's behaviour at and beyond Rasa's capacity,
and no trained model may be built for a benchmark on this shared machine. A farmer whose message was kept waits
for the late answer (polling like the page) before asking again; after each answer a farmer takes
THINK_SECONDS (3.5 s) to read it and type the next question, so 20 farmers ask ~5 messages a second (under
capacity) and 200 ~50 (over).

Reported per run: answered per second (answers the farmers saw during the run, at once or later), answered at
once, answered later (and the p50/p95 of their wait), apologies, 5xx, kept messages still unanswered at the end
and the seconds until they were all answered afterwards, p50/p95 of the replies at once.
"""
from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import aiohttp

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bot.conversation import APOLOGY, DEFERRED  # noqa: E402
from knowledge import migrate  # noqa: E402
from knowledge.db import make_engine, open_store  # noqa: E402
from knowledge.outbox.deferred import deferred_counts  # noqa: E402
from settings import Settings  # noqa: E402

QUESTIONS = ["玉米多少钱一斤", "那小麦呢", "郑州的呢", "养老保险一年交多少", "粮补什么时候发", "生猪涨了没",
             "鸡蛋价格", "谢谢"]
POLL_SECONDS = 4.0
# A farmer reads the answer and types the next question: without it every farmer would hit the gateway's
# limit of 20 messages a minute within seconds, and the benchmark would measure the limit.
THINK_SECONDS = float(os.environ.get("LOAD_BENCH_THINK_SECONDS", "3.5"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: List[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def _start(command: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


async def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{url} did not answer: {log.read_text()[-2000:]}")


async def _run(farmers: int, seconds: float, rasa_seconds: float, concurrency: int, label: str) -> Dict[str, Any]:
    folder = PROJECT_ROOT / "var" / "bench" / "load"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"knowledge-{label}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    engine.dispose()
    rasa_port, gateway_port = _free_port(), _free_port()
    rasa = _start([sys.executable, "-m", "bench._paced_rasa", str(rasa_port), str(rasa_seconds)], {},
                  folder / "rasa.log")
    # The gateway as `make run` starts it (`python -m bot`), in its own process: the farmers' load here does
    # not slow it down.
    gateway = _start([sys.executable, "-m", "bot"], {
        "RASA_URL": f"http://127.0.0.1:{rasa_port}", "KNOWLEDGE_DB_URL": f"sqlite:///{db}",
        "TRACKER_DB_URL": f"sqlite:///{folder / 'tracker.db'}", "PUSH_INTERVAL_SECONDS": "0",
        "RASA_CONCURRENCY": str(concurrency), "RASA_QUEUE_LIMIT": str(max(50, concurrency)),
        "WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS": "1000000", "WEBCHAT_SECRET_KEY": "bench" * 8,
        "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(gateway_port), "LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": "", "RASA_WEBHOOK_SECRET": "bench",
    }, folder / f"gateway-{label}.log")
    await _wait_for(f"http://127.0.0.1:{rasa_port}/count", rasa, folder / "rasa.log")
    await _wait_for(f"http://127.0.0.1:{gateway_port}/healthz", gateway, folder / f"gateway-{label}.log")
    base = f"http://127.0.0.1:{gateway_port}"
    at_once: List[float] = []
    later: List[float] = []
    later_in_window = 0
    counts = {"apologies": 0, "5xx": 0, "refused": 0, "other": 0}
    started = time.monotonic()
    end = started + seconds
    last_answer = [started]

    async def farmer(number: int) -> None:
        nonlocal later_in_window
        connector = aiohttp.TCPConnector(limit=2)
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         connector=connector) as browser:
            await (await browser.get("/")).read()
            sent = 0
            while time.monotonic() < end:
                text = f"{QUESTIONS[sent % len(QUESTIONS)]} #{number}-{sent}"
                sent += 1
                asked = time.monotonic()
                response = await browser.post("/api/messages", json={"message": text})
                if response.status >= 500:
                    counts["5xx"] += 1
                    continue
                replies = [reply["text"] for reply in (await response.json())["replies"]]
                if replies == [f"答：{text}"]:
                    at_once.append(time.monotonic() - asked)
                    last_answer[0] = time.monotonic()
                    await asyncio.sleep(THINK_SECONDS)
                elif replies == [DEFERRED]:
                    # The farmer waits for the answer, as the page tells them to; it comes with a poll.
                    while True:
                        await asyncio.sleep(POLL_SECONDS)
                        offered = (await (await browser.get("/api/messages/pending")).json())["messages"]
                        if offered:
                            await browser.post("/api/messages/delivered", json={"ids": [m["id"] for m in offered]})
                        if any(text in message["text"] for message in offered):
                            later.append(time.monotonic() - asked)
                            last_answer[0] = time.monotonic()
                            if time.monotonic() <= end:
                                later_in_window += 1
                            break
                    await asyncio.sleep(THINK_SECONDS)
                elif replies == [APOLOGY]:
                    counts["apologies"] += 1
                elif any("太快" in reply for reply in replies):
                    counts["refused"] += 1
                    await asyncio.sleep(5)
                else:
                    counts["other"] += 1

    tasks = [asyncio.ensure_future(farmer(number)) for number in range(farmers)]
    await asyncio.gather(*tasks)
    finished = time.monotonic()
    store = open_store(f"sqlite:///{db}")
    try:
        left = store.run_blocking(deferred_counts)
        # The gateway's drain answers what is still kept; wait for it (a deadline, not a measurement).
        while True:
            after = store.run_blocking(deferred_counts)
            if not after.get("waiting") and not after.get("answering"):
                break
            assert time.monotonic() - finished < 300, f"kept messages not answered: {after}"
            await asyncio.sleep(0.5)
        drained = round(time.monotonic() - finished, 1)
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{rasa_port}/count") as response:
            processed = (await response.json())["processed"]
    finally:
        store.dispose()
        for process in (gateway, rasa):
            process.terminate()
            process.wait(timeout=30)
    window = seconds
    answered_in_window = sum(1 for _ in at_once) + later_in_window
    return {
        "farmers": farmers, "seconds": seconds, "rasa_concurrency": concurrency,
        "capacity_per_second": round(1 / rasa_seconds, 1),
        # Every answer (at once or later) over the time until the last one reached its farmer.
        "answered_per_second": round((len(at_once) + len(later)) / max(1e-9, last_answer[0] - started), 2),
        "answered_per_second_in_window": round(answered_in_window / window, 2),
        "answered_at_once": len(at_once), "answered_later": len(later),
        "at_once_p50_s": _percentile(at_once, 0.5), "at_once_p95_s": _percentile(at_once, 0.95),
        "later_p50_s": _percentile(later, 0.5), "later_p95_s": _percentile(later, 0.95),
        "rasa_processed": processed, **counts,
        "kept_unanswered_at_end": left.get("waiting", 0) + left.get("answering", 0),
        "seconds_to_answer_the_rest": drained, "kept_after_drain": {k: v for k, v in after.items()},
        "run_seconds": round(finished - started, 1),
        "stddev_at_once_s": round(statistics.pstdev(at_once), 2) if at_once else None,
    }


def main() -> Dict[str, Any]:
    """Run the load at each number of farmers, then 200 farmers with admission control in effect off."""
    seconds = float(os.environ.get("LOAD_BENCH_SECONDS", "60"))
    farmers = [int(item) for item in os.environ.get("LOAD_BENCH_FARMERS", "20,200").split(",")]
    rasa_seconds = float(os.environ.get("LOAD_BENCH_RASA_SECONDS", "0.09"))
    runs = [asyncio.run(_run(count, seconds, rasa_seconds, Settings().rasa_concurrency, f"f{count}"))
            for count in farmers]
    # Every message let into Rasa at once: what the gateway did before issue 17 (with the late answers now kept).
    runs.append(asyncio.run(_run(max(farmers), seconds, rasa_seconds, 10_000, "unbounded")))
    low, high = runs[0]["answered_per_second"], runs[len(farmers) - 1]["answered_per_second"]
    return {"ok": high >= 0.9 * low, "goodput_ratio_high_to_low": round(high / low, 2) if low else None,
            "runs": runs}


if __name__ == "__main__":
    import json

    print(json.dumps(main(), ensure_ascii=False, indent=2))
