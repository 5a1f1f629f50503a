"""Load through the web chat: farmers talking at once, each sending its next message when the last was answered.

    make bench BENCH=load_bench                # the real scaled stack: 20 and 200 farmers, 60 s each
    LOAD_BENCH_SECONDS=20 LOAD_BENCH_FARMERS=20,200 python -m bench load_bench
    LOAD_BENCH_STACK=standin python -m bench load_bench   # the gateway alone, against a paced stand-in Rasa

Scaled (the default): the bench starts what `make run-scaled` starts (scripts/scaled_stack.py's process list and
nginx configuration: nginx, two Rasa servers on models/xiangxin.tar.gz, two action servers, two gateways), on free
ports and on two throwaway PostgreSQL databases (knowledge DB migrated and seeded, Rasa's tracker store) that it
creates on SCALED_PG_URL and drops at the end, with the machine's Redis as the lock store (keys are per sender,
and every bench farmer is a new sender). Each farmer is a browser with its own cookie and client address
(X-Forwarded-For, which nginx passes on and the gateways trust), so the default limits of run-scaled hold. Every
message is then reconciled: the farmer's replies and pushes, Rasa's tracker store (each message in its
conversation once, in the order sent) and the kept messages in the knowledge DB.

Stand-in (LOAD_BENCH_STACK=standin): one real gateway process against bench/_paced_rasa.py, a stand-in Rasa
answering one message at a time every LOAD_BENCH_RASA_SECONDS (0.09 s), plus a run with admission control in
effect off. Needs no model and starts in seconds: it isolates the gateway's admission control and drain from
Rasa's own behaviour, which the scaled run cannot.

A farmer whose message was kept waits for the late answer (polling like the page) before asking again; after
each answer a farmer takes THINK_SECONDS (3.5 s) to read it and type the next question, so 20 farmers ask ~5
messages a second and 200 ~50.

Reported per run: answered per second during the run (answers the farmers saw in the window, at once or later),
answered at once (p50/p95), answered later (p50/p95 of the wait), apologies, 5xx, kept messages still unanswered
at the end and the seconds until they were all answered, Rasa's turns per second (capacity, at saturation), the
load average (the machine is shared). Written to bench/reports/load_bench[_standin].json and .md.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
import psutil
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from yarl import URL

from bench._report import write_report

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bot.conversation import APOLOGY, DEFERRED, TOO_FAST  # noqa: E402
from bot.deferred import QUOTED_CHARS  # noqa: E402
from bot.webchat import CHAT_COOKIE  # noqa: E402
from bot.webchat_identity import WebchatIdentity  # noqa: E402
from knowledge import migrate  # noqa: E402
from knowledge.db import make_engine, make_session_factory, open_store, session_scope  # noqa: E402
from knowledge.outbox.deferred import deferred_counts  # noqa: E402
from knowledge.seed import seed  # noqa: E402
from settings import Settings  # noqa: E402

WORK_DIR = PROJECT_ROOT / "var" / "bench" / "load"
QUESTIONS = ["玉米多少钱一斤", "那小麦呢", "郑州的呢", "养老保险一年交多少", "粮补什么时候发", "生猪涨了没",
             "鸡蛋价格", "谢谢"]
POLL_SECONDS = 4.0
# A farmer reads the answer and types the next question: without it every farmer would hit the gateway's
# limit of 20 messages a minute within seconds, and the benchmark would measure the limit.
THINK_SECONDS = float(os.environ.get("LOAD_BENCH_THINK_SECONDS", "3.5"))
# Deadlines, not measurements: a kept message not answered this long after the run is counted missing, and a
# shared two-core machine may take many minutes to load two Rasa models.
LATE_ANSWER_LIMIT_SECONDS = 300
START_TIMEOUT_SECONDS = 900


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: List[float], share: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def _load() -> List[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _start(command: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _stop(processes: Dict[str, subprocess.Popen]) -> List[str]:
    """SIGTERM to each, as honcho sends; returns the names of those that had to be killed after 30 s."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    killed = []
    for name, process in processes.items():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            killed.append(name)
    return killed


async def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}: "
                                   f"{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT_SECONDS}s: {log.read_text()[-3000:]}")


def _quote(question: str) -> str:
    # How bot/deferred.py quotes the question above a late answer.
    return question if len(question) <= QUOTED_CHARS else question[:QUOTED_CHARS] + "…"


@dataclass
class Farmer:
    """One browser: what it sent, how each message ended, and any push it did not expect."""

    number: int
    sender: Optional[str] = None
    sent: List[str] = field(default_factory=list)
    outcomes: List[str] = field(default_factory=list)
    unexpected_pushes: List[str] = field(default_factory=list)


@dataclass
class Run:
    """What the farmers of one run saw."""

    started: float
    end: float
    at_once: List[float] = field(default_factory=list)
    later: List[float] = field(default_factory=list)
    later_in_window: int = 0
    last_answer: float = 0.0
    counts: Counter = field(default_factory=Counter)


async def _poll(browser: aiohttp.ClientSession) -> List[str]:
    async with browser.get("/api/messages/pending") as response:
        offered = (await response.json())["messages"] if response.status == 200 else []
    if offered:
        async with browser.post("/api/messages/delivered", json={"ids": [m["id"] for m in offered]}) as response:
            await response.read()
    return [message["text"] for message in offered]


async def _farmer(base: str, farmer: Farmer, run: Run, tagged: bool, identity: Optional[WebchatIdentity]) -> None:
    """Ask, read the answer (or wait for the late one), think, ask again, until the run ends."""
    connector = aiohttp.TCPConnector(limit=2)
    # A client address of its own, as farmers at home have (nginx adds its hop; the gateways trust nginx).
    headers = {"X-Forwarded-For": f"10.77.{farmer.number // 250}.{farmer.number % 250 + 1}"}
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector,
                                     headers=headers) as browser:
        async with browser.get("/") as page:
            await page.read()
        if identity is not None:
            cookie = browser.cookie_jar.filter_cookies(URL(base)).get(CHAT_COOKIE)
            farmer.sender = identity.sender_for(cookie.value) if cookie else None
        while time.monotonic() < run.end:
            question = QUESTIONS[len(farmer.sent) % len(QUESTIONS)]
            message = f"{question} #{farmer.number}-{len(farmer.sent)}" if tagged else question
            farmer.sent.append(message)
            asked = time.monotonic()
            async with browser.post("/api/messages", json={"message": message}) as response:
                status = response.status
                body = await response.json(content_type=None) if status < 500 else None
            if status >= 500 or body is None:
                farmer.outcomes.append("5xx")
                run.counts["5xx"] += 1
                continue
            replies = [reply["text"] for reply in body.get("replies", [])]
            if replies == [DEFERRED]:
                farmer.outcomes.append(await _wait_late(browser, farmer, run, message, asked))
            elif replies == [APOLOGY]:
                farmer.outcomes.append("apology")
                run.counts["apologies"] += 1
            elif replies and TOO_FAST in replies:
                farmer.outcomes.append("refused")
                run.counts["refused"] += 1
                await asyncio.sleep(5)
                continue
            elif replies and (not tagged or replies == [f"答：{message}"]):
                farmer.outcomes.append("at_once")
                run.at_once.append(time.monotonic() - asked)
                run.last_answer = time.monotonic()
            else:
                farmer.outcomes.append("other")
                run.counts["other"] += 1
            await asyncio.sleep(THINK_SECONDS)
        # Its last message answered, the farmer looks once more: a second answer to any message would show here.
        farmer.unexpected_pushes += await _poll(browser)


async def _wait_late(browser: aiohttp.ClientSession, farmer: Farmer, run: Run, message: str, asked: float) -> str:
    """The farmer waits for the late answer, polling as the page does; returns how the message ended."""
    marker = f"您刚才问：“{_quote(message)}”"
    while time.monotonic() < run.end + LATE_ANSWER_LIMIT_SECONDS:
        await asyncio.sleep(POLL_SECONDS)
        ours = None
        for pushed in await _poll(browser):
            if ours is None and pushed.startswith(marker):
                ours = pushed
            else:
                farmer.unexpected_pushes.append(pushed)
        if ours is None:
            continue
        if ours.endswith(APOLOGY):
            run.counts["apologies_later"] += 1
            return "apology_later"
        run.later.append(time.monotonic() - asked)
        run.last_answer = time.monotonic()
        if time.monotonic() <= run.end:
            run.later_in_window += 1
        return "later"
    run.counts["missing"] += 1
    return "missing"


def _summary(farmers: List[Farmer], run: Run, seconds: float) -> Dict[str, Any]:
    answered = len(run.at_once) + len(run.later)
    return {
        "farmers": len(farmers), "seconds": seconds, "sent": sum(len(farmer.sent) for farmer in farmers),
        # The goodput issue 17 compares: answers the farmers saw during the run, at once or later.
        "answered_per_second": round((len(run.at_once) + run.later_in_window) / seconds, 2),
        # Every answer over the time until the last one reached its farmer (the drain after the run included).
        "answered_per_second_until_last": round(answered / max(1e-9, run.last_answer - run.started), 2),
        "answered_at_once": len(run.at_once), "at_once_p50_s": _percentile(run.at_once, 0.5),
        "at_once_p95_s": _percentile(run.at_once, 0.95),
        "answered_later": len(run.later), "answered_later_in_window": run.later_in_window,
        "later_p50_s": _percentile(run.later, 0.5), "later_p95_s": _percentile(run.later, 0.95),
        "apologies": run.counts["apologies"], "apologies_later": run.counts["apologies_later"],
        "5xx": run.counts["5xx"], "refused": run.counts["refused"], "other": run.counts["other"],
        "missing": run.counts["missing"],
        "unexpected_pushes": sum(len(farmer.unexpected_pushes) for farmer in farmers),
    }


async def _drive(base: str, count: int, seconds: float, tagged: bool, identity: Optional[WebchatIdentity],
                 knowledge_url: str) -> Tuple[List[Farmer], Run, Dict[str, Any]]:
    """Run `count` farmers for `seconds`; note the kept messages unanswered when the run ends and how long the
    gateways' drains took to answer them."""
    started = time.monotonic()
    run = Run(started=started, end=started + seconds, last_answer=started)
    farmers = [Farmer(number) for number in range(count)]
    store = open_store(knowledge_url)

    async def unanswered() -> int:
        counts = await store.run(deferred_counts)
        return int(counts.get("waiting", 0) + counts.get("answering", 0))

    async def watch() -> Dict[str, Any]:
        await asyncio.sleep(max(0.0, run.end - time.monotonic()))
        at_end = await unanswered()
        while await unanswered():
            if time.monotonic() - run.end > LATE_ANSWER_LIMIT_SECONDS:
                return {"kept_unanswered_at_end": at_end, "seconds_until_drained": None,
                        "kept_unanswered_at_the_limit": await unanswered()}
            await asyncio.sleep(0.5)
        return {"kept_unanswered_at_end": at_end, "seconds_until_drained": round(time.monotonic() - run.end, 1)}

    try:
        watcher = asyncio.ensure_future(watch())
        await asyncio.gather(*(_farmer(base, farmer, run, tagged, identity) for farmer in farmers))
        finished = time.monotonic()
        kept = await watcher
        kept["kept_by_status_after"] = await store.run(deferred_counts)
    finally:
        store.dispose()
    kept["run_seconds"] = round(finished - started, 1)
    return farmers, run, kept


# ---------------------------------------------------------------------------------------------------------------
# The real scaled stack


class ScaledStack:
    """`make run-scaled`'s processes on free ports and throwaway databases; `close` stops and drops everything."""

    def __init__(self, folder: Path, extra_env: Optional[Dict[str, str]] = None) -> None:
        from scripts.scaled_stack import PG_URL, environment, nginx_conf, processes

        self.folder = folder
        self.extra_env = extra_env or {}  # settings of every process that differ from run-scaled's (benchmarks)
        self.pg_url = PG_URL
        suffix = uuid.uuid4().hex[:8]
        self.databases = {"knowledge": f"xx_load_knowledge_{suffix}", "tracker": f"xx_load_tracker_{suffix}"}
        self.admin = create_engine(f"{PG_URL}/postgres", future=True, isolation_level="AUTOCOMMIT")
        self.processes: Dict[str, subprocess.Popen] = {}
        self.settings = Settings(rasa_port=_free_port(), actions_port=_free_port(), gateway_port=_free_port(),
                                 rasa_host="127.0.0.1", actions_host="127.0.0.1", gateway_host="127.0.0.1",
                                 telegram_webhook_url="")
        self.behind = {kind: [_free_port(), _free_port()] for kind in ("rasa", "actions", "gateway")}
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "temp" / sub).mkdir(parents=True, exist_ok=True)
        (folder / "nginx.conf").write_text(nginx_conf(self.settings, folder, behind=self.behind), encoding="utf-8")
        self.scaled_env = environment(self.settings, PG_URL, self.databases["knowledge"], self.databases["tracker"])
        self.webchat_key = secrets.token_urlsafe(32)
        self.secret = secrets.token_urlsafe(24)
        self.commands = processes(self.settings, folder, self.behind, python=sys.executable)

    @property
    def knowledge_url(self) -> str:
        return self.scaled_env["KNOWLEDGE_DB_URL"]

    @property
    def tracker_url(self) -> str:
        return self.scaled_env["TRACKER_DB_URL"]

    @property
    def webchat(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    async def start(self) -> None:
        with self.admin.connect() as connection:
            for name in self.databases.values():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(self.knowledge_url)
        try:  # what run-scaled does with `python -m knowledge migrate` and `seed`
            migrate.upgrade(engine)
            with session_scope(make_session_factory(engine)) as session:
                seed(session)
        finally:
            engine.dispose()
        # What honcho gives each process: the environment, var/local.env's secrets, scaled.env, the process's own.
        base = {**os.environ, "RASA_API_TOKEN": secrets.token_urlsafe(24), "RASA_WEBHOOK_SECRET": self.secret,
                "WEBCHAT_SECRET_KEY": self.webchat_key, "CONSOLE_SECRET_KEY": secrets.token_urlsafe(24),
                "TELEGRAM_BOT_TOKEN": "", "RASA_HOST": "127.0.0.1", "RASA_PORT": str(self.settings.rasa_port),
                "ACTIONS_HOST": "127.0.0.1", "ACTIONS_PORT": str(self.settings.actions_port),
                "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(self.settings.gateway_port),
                "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", **self.scaled_env, **self.extra_env}
        for name, (command, own) in self.commands.items():
            self.processes[name] = _start(command, {**base, **own}, self.folder / f"{name}.log")
        ready = [_wait_for(f"http://127.0.0.1:{port}/health", self.processes[f"actions{n}"],
                           self.folder / f"actions{n}.log") for n, port in enumerate(self.behind["actions"], 1)]
        ready += [_wait_for(f"http://127.0.0.1:{port}/", self.processes[f"rasa{n}"], self.folder / f"rasa{n}.log")
                  for n, port in enumerate(self.behind["rasa"], 1)]
        ready += [_wait_for(f"http://127.0.0.1:{port}/healthz", self.processes[f"gateway{n}"],
                            self.folder / f"gateway{n}.log") for n, port in enumerate(self.behind["gateway"], 1)]
        ready.append(_wait_for(f"{self.webchat}/healthz", self.processes["nginx"], self.folder / "nginx.log"))
        await asyncio.gather(*ready)
        await self._warm_up()

    async def _warm_up(self) -> None:
        # Each Rasa server's first messages load lazily built parts (and each action server's first query warms
        # the catalog): sent straight to each server, outside the farmers' conversations and counts.
        async with aiohttp.ClientSession() as session:
            for number, port in enumerate(self.behind["rasa"], 1):
                for question in QUESTIONS:
                    async with session.post(
                            f"http://127.0.0.1:{port}/webhooks/gateway/webhook",
                            json={"sender": f"bench-warm-up-{number}", "message": question, "metadata": {}},
                            headers={"X-Gateway-Secret": self.secret},
                            timeout=aiohttp.ClientTimeout(total=START_TIMEOUT_SECONDS)) as response:
                        assert response.status == 200, await response.text()

    def cpu_seconds(self) -> Dict[str, float]:
        """CPU seconds (user + system) each process has used so far, children included (nginx's worker)."""
        used = {}
        for name, process in self.processes.items():
            try:
                parent = psutil.Process(process.pid)
                times = [parent.cpu_times(), *(child.cpu_times() for child in parent.children(recursive=True))]
            except psutil.Error:
                continue
            used[name] = sum(spent.user + spent.system for spent in times)
        return used

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} during the bench: "
                                   f"{(self.folder / f'{name}.log').read_text(errors='replace')[-2000:]}")

    async def counters(self) -> Counter:
        """The gateways' and action servers' counters summed (scraped from each process, as Prometheus does)."""
        totals: Counter = Counter()
        async with aiohttp.ClientSession() as session:
            for port in [*self.behind["gateway"], *self.behind["actions"]]:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    body = await response.text()
                for family in text_string_to_metric_families(body):
                    for sample in family.samples:
                        if sample.name.endswith("_total"):
                            labels = ",".join(f"{key}={value}" for key, value in sorted(sample.labels.items()))
                            totals[f"{sample.name}{{{labels}}}"] += sample.value
        return totals

    def close(self) -> List[str]:
        """Stop every process (returns those that had to be killed) and drop the databases."""
        killed = _stop(self.processes)
        with self.admin.connect() as connection:
            for name in self.databases.values():
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :name"), {"name": name})
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        self.admin.dispose()
        return killed


def _reconcile(tracker_url: str, farmers: List[Farmer], started_at: float, seconds: float) -> Dict[str, Any]:
    """Every message against Rasa's tracker store: in its conversation once, in the order sent, followed by an
    answer; and Rasa's turns per second during the run (user messages Rasa took in the window)."""
    engine = create_engine(tracker_url, future=True)
    problems: Dict[str, str] = {}
    turns_in_window = 0
    in_rasa = duplicates = lost = 0
    try:
        with engine.connect() as connection:
            for farmer in farmers:
                if farmer.sender is None:
                    problems[f"farmer {farmer.number}"] = "no chat cookie"
                    continue
                rows = connection.execute(text(
                    "SELECT type_name, data, timestamp FROM events WHERE sender_id = :sender ORDER BY id"),
                    {"sender": farmer.sender}).all()
                users = [(json.loads(data).get("text"), stamp) for kind, data, stamp in rows if kind == "user"]
                turns_in_window += sum(1 for _text, stamp in users if started_at <= stamp <= started_at + seconds)
                in_rasa += len(users)
                # What reached Rasa: answered at once or later, apologised (Rasa answered with nothing or an error).
                # A 5xx or a refusal never did; a message still missing may or may not have.
                expected = [message for message, outcome in zip(farmer.sent, farmer.outcomes, strict=False)
                            if outcome in ("at_once", "later", "apology", "apology_later", "missing")]
                texts = [message for message, _stamp in users]
                if texts != expected:
                    sent, seen = Counter(expected), Counter(texts)
                    duplicates += sum((seen - sent).values())
                    lost += sum((sent - seen).values())
                    problems[farmer.sender] = f"Rasa saw {texts}, the farmer's answered messages were {expected}"
                starts = [index for index, (kind, _data, _stamp) in enumerate(rows) if kind == "user"]
                if not all(any(kind == "bot" for kind, _data, _stamp in rows[begin:end])
                           for begin, end in zip(starts, [*starts[1:], len(rows)], strict=True)):
                    problems.setdefault(farmer.sender, "a message without a bot answer before the next one")
    finally:
        engine.dispose()
    return {"messages_in_rasa": in_rasa, "rasa_turns_per_second": round(turns_in_window / seconds, 2),
            "processed_twice": duplicates, "lost": lost, "conversations_with_problems": len(problems),
            "problem_examples": dict(list(problems.items())[:5])}


async def _scaled_runs(levels: List[int], seconds: float) -> Dict[str, Any]:
    folder = WORK_DIR / f"scaled-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (PROJECT_ROOT / "models" / "xiangxin.tar.gz").exists():
        raise RuntimeError("models/xiangxin.tar.gz is missing: `make train` (make bench's setup trains it)")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    stack = ScaledStack(folder)
    runs = []
    try:
        loading = time.monotonic()
        load_before_start = _load()
        await stack.start()
        start_seconds = round(time.monotonic() - loading, 1)
        identity = WebchatIdentity(stack.webchat_key)
        for count in levels:
            load_before = _load()
            metrics_before = await stack.counters()
            cpu_before = stack.cpu_seconds()
            wall_start = time.time()
            farmers, run, kept = await _drive(stack.webchat, count, seconds, False, identity, stack.knowledge_url)
            load_after = _load()
            stack.check_alive()
            summary = _summary(farmers, run, seconds)
            summary.update(kept)
            summary["reconciled"] = await asyncio.to_thread(_reconcile, stack.tracker_url, farmers, wall_start,
                                                            seconds)
            # Where the capacity goes: CPU milliseconds per message Rasa took, by process (the drain included).
            cpu_after, in_rasa = stack.cpu_seconds(), max(1, summary["reconciled"]["messages_in_rasa"])
            summary["cpu_ms_per_message"] = {
                name: round(1000 * (cpu_after[name] - cpu_before.get(name, 0)) / in_rasa, 1) for name in cpu_after}
            # What the gateways and action servers counted during this run (counters run on from the runs before).
            counted = await stack.counters()
            counted.subtract(metrics_before)
            summary["metrics"] = {name: value for name, value in sorted(counted.items()) if value}
            summary["load_average_before"], summary["load_average_after"] = load_before, load_after
            runs.append(summary)
    finally:
        stopping = time.monotonic()
        killed = stack.close()
        stop_seconds = round(time.monotonic() - stopping, 1)
        shutil.rmtree(folder / "temp", ignore_errors=True)
    return {"stack": "scaled (make run-scaled's processes: nginx, 2 Rasa, 2 action servers, 2 gateways, "
                     "PostgreSQL, Redis)",
            "rasa_concurrency_per_gateway": stack.settings.rasa_concurrency,
            "stack_start_seconds": start_seconds, "load_average_at_start": load_before_start,
            "stack_stop_seconds": stop_seconds, "killed_at_stop": killed, "runs": runs,
            "logs": str(folder.relative_to(PROJECT_ROOT))}


# ---------------------------------------------------------------------------------------------------------------
# The stand-in: one gateway against a paced stand-in Rasa


async def _standin_run(count: int, seconds: float, rasa_seconds: float, concurrency: int,
                       label: str) -> Dict[str, Any]:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    db = WORK_DIR / f"knowledge-{label}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    engine.dispose()
    rasa_port, gateway_port = _free_port(), _free_port()
    env = dict(os.environ)
    processes = {
        "rasa": _start([sys.executable, "-m", "bench._paced_rasa", str(rasa_port), str(rasa_seconds)], env,
                       WORK_DIR / "rasa.log"),
        # The gateway as `make run` starts it (`python -m bot`), in its own process.
        "gateway": _start([sys.executable, "-m", "bot"], {
            **env, "RASA_URL": f"http://127.0.0.1:{rasa_port}", "KNOWLEDGE_DB_URL": f"sqlite:///{db}",
            "TRACKER_DB_URL": f"sqlite:///{WORK_DIR / 'tracker.db'}", "PUSH_INTERVAL_SECONDS": "0",
            "RASA_CONCURRENCY": str(concurrency), "RASA_QUEUE_LIMIT": str(max(50, concurrency)),
            "WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS": "1000000", "WEBCHAT_SECRET_KEY": "bench" * 8,
            "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(gateway_port), "LOG_LEVEL": "WARNING",
            "TELEGRAM_BOT_TOKEN": "", "RASA_WEBHOOK_SECRET": "bench"}, WORK_DIR / f"gateway-{label}.log"),
    }
    try:
        await _wait_for(f"http://127.0.0.1:{rasa_port}/count", processes["rasa"], WORK_DIR / "rasa.log")
        await _wait_for(f"http://127.0.0.1:{gateway_port}/healthz", processes["gateway"],
                        WORK_DIR / f"gateway-{label}.log")
        load_before = _load()
        farmers, run, kept = await _drive(f"http://127.0.0.1:{gateway_port}", count, seconds, True, None,
                                          f"sqlite:///{db}")
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{rasa_port}/count") as response:
            processed = (await response.json())["processed"]
    finally:
        _stop(processes)
    summary = _summary(farmers, run, seconds)
    summary.update(kept)
    summary.update({"rasa_concurrency": concurrency, "capacity_per_second": round(1 / rasa_seconds, 1),
                    "rasa_processed": processed, "load_average_before": load_before, "load_average_after": _load()})
    return summary


async def _standin_runs(levels: List[int], seconds: float) -> Dict[str, Any]:
    rasa_seconds = float(os.environ.get("LOAD_BENCH_RASA_SECONDS", "0.09"))
    runs = [await _standin_run(count, seconds, rasa_seconds, Settings().rasa_concurrency, f"f{count}")
            for count in levels]
    # Every message let into Rasa at once: what the gateway did before issue 17 (with the late answers kept).
    unbounded = await _standin_run(max(levels), seconds, rasa_seconds, 10_000, "unbounded")
    unbounded["admission"] = "off (RASA_CONCURRENCY=10000)"
    runs.append(unbounded)
    return {"stack": "stand-in (one real gateway, bench/_paced_rasa.py as Rasa)", "runs": runs}


# ---------------------------------------------------------------------------------------------------------------


def _markdown(report: Dict[str, Any]) -> str:
    lines = [f"# load_bench ({report['stack']})", "",
             f"{report['generated_at']}; {report['seconds']:.0f} s per run; farmers think "
             f"{THINK_SECONDS} s between an answer and their next question. Load average (1, 5, 15 min) before and "
             "after each run: the machine (2 cores) is shared with other work.", "",
             "| farmers | answered/s | at once (p50 / p95 s) | later (p50 / p95 s) | apologies | 5xx | "
             "kept at end, drained after | Rasa turns/s | lost, twice | load before → after |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for run in report["runs"]:
        reconciled = run.get("reconciled", {})
        lost = run["missing"] + reconciled.get("lost", 0)
        twice = run["unexpected_pushes"] + reconciled.get("processed_twice", 0)
        turns = reconciled.get("rasa_turns_per_second", run.get("capacity_per_second", ""))
        label = f"{run['farmers']}" + (f" ({run['admission']})" if run.get("admission") else "")
        lines.append(
            f"| {label} | {run['answered_per_second']} | {run['answered_at_once']} ({run['at_once_p50_s']} / "
            f"{run['at_once_p95_s']}) | {run['answered_later']} ({run['later_p50_s']} / {run['later_p95_s']}) | "
            f"{run['apologies'] + run['apologies_later']} | {run['5xx']} | {run['kept_unanswered_at_end']}, "
            f"{run['seconds_until_drained']} s | {turns} | {lost}, {twice} | {run['load_average_before']} → "
            f"{run['load_average_after']} |")
    lines += ["", f"Ratio of answered/s at {report['levels'][-1]} farmers to {report['levels'][0]}: "
              f"**{report['goodput_ratio_high_to_low']}** (target ≥ 0.90)."]
    for run in report["runs"]:
        if run.get("cpu_ms_per_message"):
            spent = ", ".join(f"{name} {ms}" for name, ms in run["cpu_ms_per_message"].items())
            lines.append(f"CPU ms per message at {run['farmers']} farmers: {spent}.")
    if report.get("stack_stop_seconds") is not None:
        lines.append(f"Stack started in {report['stack_start_seconds']} s, stopped in {report['stack_stop_seconds']} s "
                     f"(killed after 30 s: {', '.join(report['killed_at_stop']) or 'none'}).")
    if report.get("capacity_per_second") is not None:
        lines.append(f"Capacity (Rasa's turns a second at {report['levels'][-1]} farmers, saturated): "
                     f"**{report['capacity_per_second']}** messages/s.")
    return "\n".join(lines) + "\n"


def main() -> Dict[str, Any]:
    """Run the load at each number of farmers on the scaled stack (or the stand-in) and write the report."""
    seconds = float(os.environ.get("LOAD_BENCH_SECONDS", "60"))
    levels = [int(item) for item in os.environ.get("LOAD_BENCH_FARMERS", "20,200").split(",")]
    mode = os.environ.get("LOAD_BENCH_STACK", "scaled")
    if mode not in ("scaled", "standin"):
        raise ValueError(f"LOAD_BENCH_STACK={mode!r}: scaled or standin")
    result = asyncio.run(_scaled_runs(levels, seconds) if mode == "scaled" else _standin_runs(levels, seconds))
    runs = result["runs"]
    low, high = runs[0]["answered_per_second"], runs[len(levels) - 1]["answered_per_second"]
    ratio = round(high / low, 2) if low else None
    accounted = all(run["missing"] == 0 and run["unexpected_pushes"] == 0 and run["other"] == 0
                    and run.get("reconciled", {}).get("conversations_with_problems", 0) == 0 for run in runs)
    report = {"generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "mode": mode,
              "seconds": seconds, "levels": levels, "think_seconds": THINK_SECONDS,
              "ok": bool(ratio is not None and ratio >= 0.9 and accounted), "goodput_ratio_high_to_low": ratio,
              "every_message_accounted_for": accounted,
              "capacity_per_second": runs[len(levels) - 1].get("reconciled", {}).get("rasa_turns_per_second"),
              **result}
    name = "load_bench" if mode == "scaled" else "load_bench_standin"
    write_report(name, report, _markdown(report))
    return report


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
