"""End-to-end benchmark: our stack (Rasa + action server + knowledge DB + gateway) against stock Rasa, in one run.

    python -m bench.e2e_bench [--seconds 12] [--rate 6] [--label after] [--project DIR]
    make bench BENCH=e2e_bench

Starts our three processes on free ports over a fresh seeded knowledge DB and SQLite tracker store (as
`make run` does, from models/xiangxin.tar.gz; nothing is trained), and the stock `rasa init` bot (made
and trained once under var/bench/stock_bot, in-memory tracker store, no actions). Then, for each:
closed-loop load of 1, 5 and 20 simulated farmers, each holding 8-message conversations (a new sender per
conversation) for `--seconds` per level, through Rasa's REST channel (ours: the gateway channel with
X-Gateway-Secret) and, for ours, through the web chat (gateway → Rasa); an open-loop run with messages
arriving at `--rate` per second whatever the answers' pace; NLU alone (/model/parse, one at a time); a
py-spy profile of each Rasa and action server under 5 farmers. Reported: p50/p95/p99, messages/s, CPU
milliseconds per message of each process (psutil), start-up time and resident memory of each process, the
profile's top functions, ours/stock ratios, and the load average (the machine is shared). Writes
bench/reports/e2e_bench[_LABEL].json and .md and a latency-against-load plot (.svg).

`--project DIR` benchmarks our stack from another checkout (e.g. the commit before a change) with this
bench's harness, so two runs compare like with like.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Tuple

import aiohttp
import psutil
import yaml

from bench._report import REPORT_DIR, read_report, write_report
from bot.conversation import TOO_FAST
from bot.deferred import APOLOGY, DEFERRED

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOCK_DIR = PROJECT_ROOT / "var" / "bench" / "stock_bot"
START_TIMEOUT_SECONDS = 900  # a deadline, not a target: a shared two-core machine can be very slow
FARMER_LEVELS = (1, 5, 20)

# What the gateway says instead of an answer (too fast, kept for later, an apology): not an answer to count.
GATEWAY_INSTEAD_OF_ANSWERS = {TOO_FAST, DEFERRED, APOLOGY}
# Eight messages a farmer sends in one conversation: greeting, price, trend, policy, pension, thanks, bye.
OUR_CONVERSATION = ["你好", "玉米多少钱一斤", "猪肉最近涨了还是跌了", "种粮补贴怎么领",
                    "城乡居民养老保险一个月能领多少钱", "大白菜价格", "谢谢", "再见"]
# The stock bot's eight (moodbot): it knows greetings, moods, bot challenge, yes/no and goodbyes.
STOCK_CONVERSATION = ["hello", "I am sad", "yes", "are you a bot?", "great", "no", "I am happy", "bye"]
PARSE_TEXTS = {"ours": ["玉米多少钱一斤", "种粮补贴怎么领", "你好"], "stock": ["hello", "I am sad", "bye"]}

Send = Callable[[Any, str], Awaitable[int]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: List[float], fraction: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds * 1000, 1)


def _load_average() -> List[float]:
    return [round(value, 2) for value in os.getloadavg()]


@dataclass
class Server:
    """One process we started: its handle, log, and when it began answering."""

    name: str
    popen: subprocess.Popen
    log: Path
    started: float
    ready_seconds: Optional[float] = None

    def process(self) -> psutil.Process:
        return psutil.Process(self.popen.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and its children so far."""
        try:
            processes = [self.process(), *self.process().children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for proc in processes:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def rss_mb(self) -> float:
        try:
            processes = [self.process(), *self.process().children(recursive=True)]
            return round(sum(proc.memory_info().rss for proc in processes) / 2**20, 1)
        except psutil.NoSuchProcess:
            return 0.0


@dataclass
class Stack:
    """A bot under test: its processes and how to talk to it."""

    name: str
    conversation: List[str]
    rest_url: str
    rest_headers: Dict[str, str]
    parse_url: str
    servers: Dict[str, Server] = field(default_factory=dict)
    webchat_url: Optional[str] = None
    workdir: Optional[Path] = None
    # Stops a stack that owns more than its processes (the scaled stack's throwaway databases), instead of
    # stopping the processes here.
    on_stop: Optional[Callable[[], Any]] = None

    def cpu(self) -> Dict[str, float]:
        return {name: server.cpu_seconds() for name, server in self.servers.items()}

    def check_alive(self) -> None:
        """Raise when a process of the stack has exited: figures without it would be meaningless."""
        for name, server in self.servers.items():
            if server.popen.poll() is not None:
                raise RuntimeError(f"{self.name} {name} exited with {server.popen.returncode} during the bench: "
                                   f"{server.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.on_stop is not None:
            self.on_stop()
            return
        for server in self.servers.values():
            if server.popen.poll() is None:
                server.popen.terminate()
        for server in self.servers.values():
            try:
                server.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.popen.kill()


def _spawn(name: str, command: List[str], cwd: Path, env: Dict[str, str], logdir: Path) -> Server:
    log = logdir / f"{name}.log"
    popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return Server(name, popen, log, time.monotonic())


async def _wait_ready(server: Server, probe: Callable[[aiohttp.ClientSession], Awaitable[bool]]) -> None:
    """Poll `probe` until it says ready; records the seconds since the process was started."""
    deadline = server.started + START_TIMEOUT_SECONDS
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if server.popen.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.popen.returncode}: "
                                   f"{server.log.read_text(errors='replace')[-3000:]}")
            try:
                if await probe(session):
                    server.ready_seconds = round(time.monotonic() - server.started, 1)
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"{server.name} not ready after {START_TIMEOUT_SECONDS}s")


def _get_ok(url: str) -> Callable[[aiohttp.ClientSession], Awaitable[bool]]:
    async def probe(session: aiohttp.ClientSession) -> bool:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as answer:
            return answer.status == 200
    return probe


def _answers(url: str, headers: Dict[str, str], text: str) -> Callable[[aiohttp.ClientSession], Awaitable[bool]]:
    """Ready = a real message is answered (the model is loaded, not only the port open)."""
    async def probe(session: aiohttp.ClientSession) -> bool:
        body = {"sender": f"bench-ready-{secrets.token_hex(4)}", "message": text}
        async with session.post(url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as answer:
            return answer.status == 200 and bool(await answer.json())
    return probe


async def start_ours(project: Path, model: Path, python: str) -> Stack:
    """Our action server, Rasa, gateway and console over a fresh seeded knowledge DB, started together as by
    `make run` (the console takes no part in the load; it is started for its start-up time and memory)."""
    workdir = Path(tempfile.mkdtemp(prefix="e2e_ours_"))
    knowledge_url = f"sqlite:///{workdir / 'knowledge.db'}"
    tracker_db = workdir / "tracker.db"
    ports = {name: _free_port() for name in ("rasa", "actions", "gateway", "console")}
    token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = dict(os.environ, KNOWLEDGE_DB_URL=knowledge_url, TRACKER_DB_URL=f"sqlite:///{tracker_db}",
               ACTIONS_HOST="127.0.0.1", ACTIONS_PORT=str(ports["actions"]), RASA_HOST="127.0.0.1",
               RASA_PORT=str(ports["rasa"]), RASA_URL=f"http://127.0.0.1:{ports['rasa']}",
               ACTION_SERVER_URL=f"http://127.0.0.1:{ports['actions']}/webhook", RASA_API_TOKEN=token,
               RASA_WEBHOOK_SECRET=secret, GATEWAY_HOST="127.0.0.1", GATEWAY_PORT=str(ports["gateway"]),
               WEBCHAT_SECRET_KEY=secrets.token_urlsafe(24), CONSOLE_SECRET_KEY=secrets.token_urlsafe(24),
               CONSOLE_HOST="127.0.0.1", CONSOLE_PORT=str(ports["console"]),
               # The bench is one client address sending far more than a village would; the gateway must not
               # apologise for Rasa's slowness under 20 farmers, so its timeout is well above any latency.
               WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS="1000000", RASA_TIMEOUT_SECONDS="120",
               PUSH_INTERVAL_SECONDS="0", TELEGRAM_BOT_TOKEN="", LOG_LEVEL="WARNING",
               RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    for step in ("migrate", "seed"):
        subprocess.run([python, "-m", "knowledge", step], cwd=project, env=env, check=True, capture_output=True)
    # The project's own endpoints.yml (its tracker store type and options), on this run's files and ports.
    endpoints_config = yaml.safe_load((project / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints_config["action_endpoint"]["url"] = f"http://127.0.0.1:{ports['actions']}/webhook"
    endpoints_config["tracker_store"]["db"] = str(tracker_db)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump(endpoints_config), encoding="utf-8")
    rest_url = f"http://127.0.0.1:{ports['rasa']}/webhooks/gateway/webhook"
    stack = Stack("ours", OUR_CONVERSATION, rest_url, {"X-Gateway-Secret": secret},
                  f"http://127.0.0.1:{ports['rasa']}/model/parse?token={token}",
                  webchat_url=f"http://127.0.0.1:{ports['gateway']}", workdir=workdir)
    commands = {  # as the Procfile starts them
        "actions": [python, "-m", "actions"],
        "rasa": [python, "-m", "rasa_extensions.serve", "--model", str(model), "--endpoints", str(endpoints),
                 "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", str(ports["rasa"])],
        "gateway": [python, "-m", "bot"],
        "console": [python, "-m", "console"],
    }
    for name, command in commands.items():
        stack.servers[name] = _spawn(name, command, project, env, workdir)
    try:
        await asyncio.gather(
            _wait_ready(stack.servers["actions"], _get_ok(f"http://127.0.0.1:{ports['actions']}/health")),
            _wait_ready(stack.servers["rasa"], _answers(rest_url, stack.rest_headers, "你好")),
            _wait_ready(stack.servers["gateway"], _get_ok(f"{stack.webchat_url}/healthz")),
            _wait_ready(stack.servers["console"], _get_ok(f"http://127.0.0.1:{ports['console']}/healthz")),
        )
    except BaseException:
        stack.stop()
        raise
    return stack


async def start_ours_scaled() -> Stack:
    """`make run-scaled`'s processes (nginx, 2 Rasa, 2 action servers, 2 gateways, PostgreSQL databases of its own,
    Redis lock store; bench/load_bench.py's ScaledStack), farmers through nginx on both channels."""
    from bench.load_bench import ScaledStack

    workdir = Path(tempfile.mkdtemp(prefix="e2e_scaled_"))
    # As for our one-Rasa stack: the bench is one client address sending far more than a village would.
    scaled = ScaledStack(workdir, extra_env={"WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS": "1000000",
                                             "RASA_TIMEOUT_SECONDS": "120"})
    started = time.monotonic()
    try:
        await scaled.start()
    except BaseException:
        scaled.close()
        raise
    rasa = f"http://127.0.0.1:{scaled.settings.rasa_port}"
    stack = Stack("scaled", OUR_CONVERSATION, f"{rasa}/webhooks/gateway/webhook", {"X-Gateway-Secret": scaled.secret},
                  f"{rasa}/model/parse", webchat_url=scaled.webchat, workdir=workdir, on_stop=scaled.close)
    for name, popen in scaled.processes.items():
        stack.servers[name] = Server(name, popen, workdir / f"{name}.log", started)
    return stack


def ensure_stock_bot(python: str) -> Tuple[Path, Optional[float]]:
    """The `rasa init` bot under var/bench/stock_bot, made and trained on first use; returns it and the training
    time (None when it was there already)."""
    models = STOCK_DIR / "models"
    if models.is_dir() and any(models.glob("*.tar.gz")):
        return STOCK_DIR, None
    shutil.rmtree(STOCK_DIR, ignore_errors=True)
    STOCK_DIR.mkdir(parents=True)
    started = time.monotonic()
    rasa = str(Path(python).parent / "rasa")
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", TQDM_DISABLE="1")
    subprocess.run([rasa, "init", "--no-prompt", "--init-dir", str(STOCK_DIR)], cwd=STOCK_DIR, env=env,
                   check=True, capture_output=True)
    return STOCK_DIR, round(time.monotonic() - started, 1)


async def start_stock(python: str) -> Stack:
    """The stock bot: `rasa run --enable-api` with its own credentials (REST channel), in-memory tracker store."""
    bot_dir, _ = ensure_stock_bot(python)
    port = _free_port()
    rasa = str(Path(python).parent / "rasa")
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    workdir = Path(tempfile.mkdtemp(prefix="e2e_stock_"))
    rest_url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    stack = Stack("stock", STOCK_CONVERSATION, rest_url, {}, f"http://127.0.0.1:{port}/model/parse",
                  workdir=workdir)
    stack.servers["rasa"] = _spawn("rasa", [rasa, "run", "--enable-api", "--model", "models", "--credentials",
                                            "credentials.yml", "--interface", "127.0.0.1", "--port", str(port)],
                                   bot_dir, env, workdir)
    try:
        await _wait_ready(stack.servers["rasa"], _answers(rest_url, {}, "hello"))
    except BaseException:
        stack.stop()
        raise
    return stack


# --- talking to a bot ---------------------------------------------------------------------------------------

class RestFarmer:
    """A farmer on Rasa's REST channel: a new sender id per conversation."""

    def __init__(self, stack: Stack, session: aiohttp.ClientSession, label: str) -> None:
        self._stack, self._session = stack, session
        self.sender = f"bench-{label}-{secrets.token_hex(6)}"

    async def open(self) -> None:
        return None

    async def send(self, text: str) -> int:
        body = {"sender": self.sender, "message": text}
        # X-Sender: what the scaled layout's nginx keeps a farmer on one Rasa server by (the gateway sends it).
        headers = {**self._stack.rest_headers, "X-Sender": self.sender}
        async with self._session.post(self._stack.rest_url, json=body, headers=headers) as answer:
            if answer.status != 200:
                raise RuntimeError(f"REST {answer.status}")
            return len(await answer.json())

    async def close(self) -> None:
        return None


class WebchatFarmer:
    """A farmer in the web chat: loads the page (its cookie is the farmer), then posts messages."""

    def __init__(self, stack: Stack, _session: aiohttp.ClientSession, label: str) -> None:
        self._stack = stack
        self._session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                              timeout=aiohttp.ClientTimeout(total=300))

    async def open(self) -> None:
        async with self._session.get(f"{self._stack.webchat_url}/") as page:
            await page.read()

    async def send(self, text: str) -> int:
        async with self._session.post(f"{self._stack.webchat_url}/api/messages", json={"message": text}) as answer:
            if answer.status != 200:
                raise RuntimeError(f"web chat {answer.status}")
            replies = (await answer.json())["replies"]
            refused = [reply["text"] for reply in replies if reply.get("text") in GATEWAY_INSTEAD_OF_ANSWERS]
            if refused:
                raise RuntimeError(f"web chat did not answer: {refused[0]}")
            return len(replies)

    async def close(self) -> None:
        await self._session.close()


@dataclass
class Phase:
    """What one load phase measured."""

    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    empty: int = 0
    first_sent: Optional[float] = None
    last_done: Optional[float] = None

    def record(self, started: float, replies: Optional[int]) -> None:
        done = time.perf_counter()
        self.first_sent = started if self.first_sent is None else min(self.first_sent, started)
        self.last_done = done if self.last_done is None else max(self.last_done, done)
        if replies is None:
            self.errors += 1
            return
        self.latencies.append(done - started)
        if replies == 0:
            self.empty += 1


async def _converse(farmer_class: type, stack: Stack, session: aiohttp.ClientSession, label: str,
                    phase: Phase, until: float) -> None:
    """One simulated farmer: conversation after conversation until the deadline."""
    while time.perf_counter() < until:
        farmer = farmer_class(stack, session, label)
        try:
            await farmer.open()
            for text in stack.conversation:
                if time.perf_counter() >= until:
                    break
                started = time.perf_counter()
                try:
                    replies: Optional[int] = await farmer.send(text)
                except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
                    logger.warning("%s: %s", label, error)
                    replies = None
                phase.record(started, replies)
        finally:
            await farmer.close()


async def _open_loop(farmer_class: type, stack: Stack, session: aiohttp.ClientSession, label: str,
                     phase: Phase, rate: float, seconds: float) -> int:
    """Messages arrive at `rate` a second whatever the answers' pace; each goes to a farmer not waiting for an
    answer (a new one when all are waiting), who sends the next message of their conversation. Latency counts
    from the scheduled arrival. Returns how many were still unanswered at the end of the arrivals."""
    idle: Deque[Tuple[Any, int]] = collections.deque()
    tasks: List[asyncio.Task] = []
    started = time.perf_counter()
    count = int(rate * seconds)

    async def deliver(farmer: Any, position: int, due: float) -> None:
        try:
            if position == 0:
                await farmer.open()
            replies: Optional[int] = await farmer.send(stack.conversation[position])
        except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
            logger.warning("%s: %s", label, error)
            replies = None
        phase.record(due, replies)
        if position + 1 < len(stack.conversation):
            idle.append((farmer, position + 1))
        else:
            await farmer.close()

    for index in range(count):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        farmer, position = idle.popleft() if idle else (farmer_class(stack, session, label), 0)
        tasks.append(asyncio.ensure_future(deliver(farmer, position, due)))
    unanswered = sum(1 for task in tasks if not task.done())
    await asyncio.gather(*tasks)
    while idle:
        farmer, _ = idle.popleft()
        await farmer.close()
    return unanswered


def _machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return times.user + times.system + getattr(times, "nice", 0.0) + getattr(times, "irq", 0.0) + getattr(
        times, "softirq", 0.0) + getattr(times, "steal", 0.0)


async def measure(stack: Stack, channel: str, run: Callable[[Phase, aiohttp.ClientSession], Awaitable[Any]],
                  description: Dict[str, Any]) -> Dict[str, Any]:
    """Run one phase and summarise latency, throughput and the CPU each process spent per message."""
    phase = Phase()
    stack.check_alive()
    cpu_before, busy_before = stack.cpu(), _machine_busy_seconds()
    client_before = sum(psutil.Process().cpu_times()[:2])
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:
        extra = await run(phase, session)
    cpu_after, busy_after = stack.cpu(), _machine_busy_seconds()
    stack.check_alive()
    client_cpu = sum(psutil.Process().cpu_times()[:2]) - client_before
    answered = len(phase.latencies)
    elapsed = (phase.last_done - phase.first_sent) if phase.first_sent and phase.last_done else None
    cpu_ms = {name: round((cpu_after[name] - cpu_before[name]) * 1000 / answered, 1) if answered else None
              for name in cpu_after}
    ours_cpu = sum(cpu_after[name] - cpu_before[name] for name in cpu_after)
    result = {
        "bot": stack.name, "channel": channel, **description,
        "messages": answered, "errors": phase.errors, "empty_answers": phase.empty,
        "p50_ms": _ms(_percentile(phase.latencies, 0.50)), "p95_ms": _ms(_percentile(phase.latencies, 0.95)),
        "p99_ms": _ms(_percentile(phase.latencies, 0.99)), "max_ms": _ms(max(phase.latencies, default=None)),
        "messages_per_second": round(answered / elapsed, 2) if elapsed else None,
        "cpu_ms_per_message": cpu_ms,
        "cpu_ms_per_message_total": round(ours_cpu * 1000 / answered, 1) if answered else None,
        # CPU the rest of the machine (other workers, the bench's own client) spent meanwhile, in cores.
        "bench_client_cpu_cores": round(client_cpu / elapsed, 2) if elapsed else None,
        "other_cpu_cores": round((busy_after - busy_before - ours_cpu - client_cpu) / elapsed, 2) if elapsed else None,
        "load_average": _load_average(),
    }
    if extra is not None:
        result.update(extra)
    logger.warning("%s %s %s: %s msgs, p50 %s ms, p95 %s ms, %s msg/s, load %s", stack.name, channel, description,
                   answered, result["p50_ms"], result["p95_ms"], result["messages_per_second"],
                   result["load_average"])
    return result


async def closed_loop(stack: Stack, channel: str, farmers: int, seconds: float) -> Dict[str, Any]:
    farmer_class = WebchatFarmer if channel == "webchat" else RestFarmer

    async def run(phase: Phase, session: aiohttp.ClientSession) -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_converse(farmer_class, stack, session, f"{channel}{farmers}", phase, until)
                               for _ in range(farmers)))

    return await measure(stack, channel, run, {"load": "closed", "farmers": farmers})


async def open_loop(stack: Stack, channel: str, rate: float, seconds: float) -> Dict[str, Any]:
    farmer_class = WebchatFarmer if channel == "webchat" else RestFarmer

    async def run(phase: Phase, session: aiohttp.ClientSession) -> Dict[str, Any]:
        unanswered = await _open_loop(farmer_class, stack, session, f"open{channel}", phase, rate, seconds)
        return {"unanswered_when_arrivals_ended": unanswered}

    return await measure(stack, channel, run, {"load": "open", "arrivals_per_second": rate})


async def parse_alone(stack: Stack, count: int = 30) -> Dict[str, Any]:
    """NLU only: /model/parse over HTTP, one request at a time (compare bench/nlu_bench's in-process figure)."""
    latencies = []
    texts = PARSE_TEXTS[stack.name]
    async with aiohttp.ClientSession() as session:
        for index in range(count + 3):
            started = time.perf_counter()
            async with session.post(stack.parse_url, json={"text": texts[index % len(texts)]}) as answer:
                await answer.read()
                if answer.status != 200:
                    return {"error": f"/model/parse answered {answer.status}"}
            if index >= 3:  # the first few warm caches
                latencies.append(time.perf_counter() - started)
    return {"p50_ms": _ms(_percentile(latencies, 0.5)), "p95_ms": _ms(_percentile(latencies, 0.95)),
            "requests": count}


# --- profiles ------------------------------------------------------------------------------------------------

_PLUMBING = ("asyncio/", "sanic/", "uvloop", "threading.py", "concurrent/futures", "<module>", "runpy.py",
             "rasa/__main__.py", "rasa/cli/", "rasa/core/run.py", "rasa_extensions/serve.py", "actions/__main__.py",
             "selectors.py", "sanic_routing", "rasa_sdk/endpoint.py", "worker_threads.py")


# Leaves where a thread waits for work (uvloop's loop inside Sanic's serve, idle pool threads): py-spy
# samples some of them as active; they are left out, so percentages are of the time a process works.
_IDLE_LEAVES = ("serve (sanic/server/runners.py", "_worker (concurrent/futures/thread.py", "select (selectors.py",
                "wait (threading.py", "_wait_for_tstate_lock", "get (queue.py")


def summarise_profile(raw: Path, top: int = 12) -> Dict[str, Any]:
    """Top functions of a py-spy raw (collapsed stacks) profile, idle waits left out: by own samples and by
    samples they are in."""
    own: Dict[str, int] = collections.Counter()
    inside: Dict[str, int] = collections.Counter()
    total = 0
    if not raw.exists():
        return {"error": "no profile written"}
    for line in raw.read_text(errors="replace").splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack_text.split(";") if frame and not frame.startswith("process ")
                  and not frame.startswith("thread ")]
        if not frames or frames[-1].startswith(_IDLE_LEAVES):
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            if not any(part in frame for part in _PLUMBING):
                inside[frame] += count

    def share(counter: Dict[str, int]) -> List[Dict[str, Any]]:
        ranked = sorted(counter.items(), key=lambda item: -item[1])[:top]
        return [{"function": name, "percent": round(100 * count / total, 1)} for name, count in ranked]

    return {"samples": total, "own": share(own), "inclusive": share(inside)}


async def profile(stack: Stack, farmers: int, seconds: float, label: str = "after") -> Dict[str, Any]:
    """py-spy record every process of the stack while `farmers` farmers talk over REST."""
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not py_spy:
        return {"error": "py-spy is not installed (pip install -r requirements.lock)"}
    assert stack.workdir is not None
    recorders = {}
    for name, server in stack.servers.items():
        if name in ("gateway", "console"):
            continue
        out = stack.workdir / f"profile-{name}.txt"
        recorders[name] = (subprocess.Popen(
            [py_spy, "record", "--pid", str(server.popen.pid), "--duration", str(int(seconds)), "--rate", "100",
             "--format", "raw", "--nonblocking", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out)
    await asyncio.sleep(1)  # py-spy attaches
    load = await closed_loop(stack, "rest", farmers, seconds - 2)
    summaries = {}
    for name, (recorder, out) in recorders.items():
        try:
            _, stderr = recorder.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()
            stderr = b"timed out"
        summaries[name] = summarise_profile(out)
        kept = PROJECT_ROOT / "var" / "bench" / "profiles" / out.name.replace("profile-", f"{label}-{stack.name}-")
        kept.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            shutil.copy(out, kept)  # for a closer look (py-spy's raw format: collapsed stacks)
        if recorder.returncode:
            summaries[name]["py_spy"] = stderr.decode(errors="replace")[-500:]
    return {"load": {key: load[key] for key in ("farmers", "messages", "p50_ms", "messages_per_second")},
            "processes": summaries}


# --- report --------------------------------------------------------------------------------------------------

def _ratio(ours: Optional[float], stock: Optional[float]) -> Optional[float]:
    return round(ours / stock, 2) if ours is not None and stock else None


def ratios(phases: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """ours / stock for each REST phase measured on both."""
    def key(phase: Dict[str, Any]) -> Tuple:
        return (phase["channel"], phase["load"], phase.get("farmers"), phase.get("arrivals_per_second"))
    stock = {key(phase): phase for phase in phases if phase["bot"] == "stock"}
    out = []
    for phase in phases:
        reference = stock.get(key(phase))
        if phase["bot"] != "ours" or reference is None:
            continue
        out.append({"channel": phase["channel"], "load": phase["load"], "farmers": phase.get("farmers"),
                    "arrivals_per_second": phase.get("arrivals_per_second"),
                    **{f"{metric}_ratio": _ratio(phase[metric], reference[metric])
                       for metric in ("p50_ms", "p95_ms", "p99_ms", "messages_per_second",
                                      "cpu_ms_per_message_total")}})
    return out


def plot(phases: List[Dict[str, Any]], path: Path, title: str) -> None:
    """Latency (p50 solid, p95 dashed) against closed-loop farmers, one colour per bot and channel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    series: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
    for phase in phases:
        if phase["load"] == "closed":
            series[f"{phase['bot']} {phase['channel']}"].append(phase)
    colours = ("tab:blue", "tab:green", "tab:orange", "tab:red", "tab:purple")
    for (name, points), colour in zip(sorted(series.items()), colours, strict=False):
        points.sort(key=lambda phase: phase["farmers"])
        farmers = [phase["farmers"] for phase in points]
        axes.plot(farmers, [phase["p50_ms"] for phase in points], "o-", color=colour, label=f"{name} p50")
        axes.plot(farmers, [phase["p95_ms"] for phase in points], "s--", color=colour, label=f"{name} p95")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(list(FARMER_LEVELS))
    axes.set_xticklabels([str(level) for level in FARMER_LEVELS])
    axes.set_xlabel("simulated farmers (closed loop, 8-message conversations)")
    axes.set_ylabel("latency per message (ms)")
    axes.set_title(title, fontsize=9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    matplotlib.rcParams["svg.hashsalt"] = "e2e_bench"  # stable ids: the committed SVG diffs only where it changed
    figure.savefig(path, metadata={"Date": None})
    plt.close(figure)


def _cell(value: Any) -> str:
    return "–" if value is None else str(value)


def _phase(phases: List[Dict[str, Any]], bot: str, farmers: int, channel: str = "rest") -> Dict[str, Any]:
    return next((phase for phase in phases if phase["bot"] == bot and phase["channel"] == channel
                 and phase["load"] == "closed" and phase.get("farmers") == farmers), {})


def _stack_totals(processes: Dict[str, Dict[str, Any]]) -> Tuple[Optional[float], Optional[float]]:
    """The slowest start-up (processes start together) and the resident memory of all of a stack's processes."""
    if not processes:
        return None, None
    return (max(figures["ready_seconds"] or 0 for figures in processes.values()),
            round(sum(figures["rss_mb"] or 0 for figures in processes.values()), 1))


def targets(report: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    """Issue 16's targets: (target, what this run (or the named report) measured, met / missed by how much)."""
    phases = report["phases"]
    one, one_stock = _phase(phases, "ours", 1), _phase(phases, "stock", 1)

    def verdict(value: Optional[float], limit: float, at_most: bool = True) -> str:
        if value is None:
            return "not measured"
        if (value <= limit) if at_most else (value >= limit):
            return "met"
        return f"missed by {round(abs(value - limit), 2)}"

    rows = [("1 farmer p50 ≤ 30 ms", f"{one.get('p50_ms')} ms", verdict(one.get("p50_ms"), 30)),
            ("1 farmer p95 ≤ 60 ms", f"{one.get('p95_ms')} ms", verdict(one.get("p95_ms"), 60))]
    p50_ratio = _ratio(one.get("p50_ms"), one_stock.get("p50_ms"))
    rows.append(("1 farmer p50 ≤ 0.75 × stock", f"{p50_ratio} × ({one.get('p50_ms')} vs {one_stock.get('p50_ms')} ms)",
                 verdict(p50_ratio, 0.75)))
    best = max((phase for phase in phases if phase["bot"] == "ours" and phase["channel"] == "rest"
                and phase["load"] == "closed"), key=lambda phase: phase["messages_per_second"] or 0, default={})
    reference = _phase(phases, "stock", best.get("farmers", 0))
    throughput_ratio = _ratio(best.get("messages_per_second"), reference.get("messages_per_second"))
    rows.append(("one Rasa + one action server ≥ 30 msg/s", f"{best.get('messages_per_second')} msg/s at "
                 f"{best.get('farmers')} farmers", verdict(best.get("messages_per_second"), 30, at_most=False)))
    rows.append(("… and ≥ 1.3 × stock", f"{throughput_ratio} × (stock {reference.get('messages_per_second')} msg/s)",
                 verdict(throughput_ratio, 1.3, at_most=False)))
    scaled = max((phase for phase in phases if phase["bot"] == "scaled" and phase["load"] == "closed"),
                 key=lambda phase: phase["messages_per_second"] or 0, default={})
    rows.append(("whole stack, 2 Rasa, two cores ≥ 60 msg/s",
                 f"{scaled.get('messages_per_second')} msg/s ({scaled.get('channel')}, {scaled.get('farmers')} farmers)"
                 if scaled else "not run", verdict(scaled.get("messages_per_second"), 60, at_most=False)))
    ours = report["processes"].get("ours", {})
    start, rss = _stack_totals(ours)
    rows.append(("start-up ≤ 30 s (every process of `make run`)", f"{start} s", verdict(start, 30)))
    rows.append(("`make run` stack ≤ 2 GB resident", f"{rss} MB ({len(ours)} processes)", verdict(rss, 2048)))
    training = read_report("train_bench")
    trained = next((run for run in training.get("runs", []) if run["bot"] == "ours"), {})
    rows.append(("training ≤ 3 min", f"{trained.get('seconds')} s (train_bench.md, {training.get('generated_at')})"
                 if trained else "run `make bench BENCH=train_bench`", verdict(trained.get("seconds"), 180)))
    fresh = read_report("fresh_test_bench")
    rows.append(("fresh-clone `make test` ≤ 10 min",
                 f"{fresh.get('seconds')} s, exit {fresh.get('exit_status')} (fresh_test_bench.md, "
                 f"{fresh.get('generated_at')})" if fresh else "run `make bench BENCH=fresh_test_bench`",
                 verdict(fresh.get("seconds"), 600) if fresh.get("exit_status") == 0 else "not measured"))
    return rows


def markdown(report: Dict[str, Any]) -> str:
    """The report as a page a person reads."""
    lines = [f"# End-to-end benchmark ({report['label']})", "",
             f"Generated {report['generated_at']} by `python -m bench.e2e_bench`; our code at {report['ours_commit']}. "
             f"Machine: {report['machine']['cpus']} cores, shared; "
             f"load average at start {report['load_average_start']}, "
             f"at end {report['load_average_end']}. Each closed-loop level ran {report['seconds_per_phase']} s; "
             "`other_cpu` is what the rest of the machine used meanwhile (other workers), in cores.", "",
             "## Targets (issue 16)", "", "| target | measured | |", "|---|---|---|",
             *(f"| {target} | {measured} | {verdict} |" for target, measured, verdict in targets(report)), "",
             "`scaled` is `make run-scaled`'s processes (nginx, 2 Rasa, 2 action servers, 2 gateways, Redis lock "
             "store, PostgreSQL tracker and knowledge databases); PostgreSQL's and Redis's CPU count as other CPU. "
             f"It started in {_cell(report.get('scaled_start_seconds'))} s.", "",
             "## Latency and throughput", "",
             "| bot | channel | load | p50 ms | p95 ms | p99 ms | msg/s | errors | CPU ms/msg (per process) | "
             "other CPU (cores) | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for phase in report["phases"]:
        load = (f"{phase['farmers']} farmers" if phase["load"] == "closed"
                else f"open {phase['arrivals_per_second']}/s")
        cpu = ", ".join(f"{name} {value}" for name, value in phase["cpu_ms_per_message"].items())
        lines.append(f"| {phase['bot']} | {phase['channel']} | {load} | {_cell(phase['p50_ms'])} | "
                     f"{_cell(phase['p95_ms'])} | {_cell(phase['p99_ms'])} | {_cell(phase['messages_per_second'])} | "
                     f"{phase['errors']} | {cpu} (total {_cell(phase['cpu_ms_per_message_total'])}) | "
                     f"{_cell(phase['other_cpu_cores'])} | {phase['load_average'][0]} |")
    lines += ["", "## Ours / stock (REST channel, same run)", "",
              "| load | p50 | p95 | p99 | msg/s | CPU ms/msg |", "|---|---|---|---|---|---|"]
    for ratio in report["ratios"]:
        load = f"{ratio['farmers']} farmers" if ratio["load"] == "closed" else f"open {ratio['arrivals_per_second']}/s"
        lines.append(f"| {load} | {_cell(ratio['p50_ms_ratio'])} | {_cell(ratio['p95_ms_ratio'])} | "
                     f"{_cell(ratio['p99_ms_ratio'])} | {_cell(ratio['messages_per_second_ratio'])} | "
                     f"{_cell(ratio['cpu_ms_per_message_total_ratio'])} |")
    lines += ["", "## Start-up (seconds from start until it answers) and resident memory after the load", "",
              "| bot | process | start-up s | RSS MB |", "|---|---|---|---|"]
    for bot, processes in report["processes"].items():
        for name, figures in processes.items():
            lines.append(f"| {bot} | {name} | {_cell(figures['ready_seconds'])} | {_cell(figures['rss_mb'])} |")
        slowest, total_rss = _stack_totals(processes)
        lines.append(f"| {bot} | **all** (started together) | **{slowest}** | **{total_rss}** |")
    lines += ["", "## NLU alone: /model/parse over HTTP, one request at a time", "",
              "| bot | p50 ms | p95 ms |", "|---|---|---|"]
    for bot, figures in report["parse"].items():
        lines.append(f"| {bot} | {_cell(figures.get('p50_ms'))} | {_cell(figures.get('p95_ms'))} |")
    lines += ["", f"## Where the time goes (py-spy, {report['profile_farmers']} farmers over REST)", "",
              "Samples while the process works (idle waits left out); left: functions with the share of samples in "
              "them or what they call (event-loop plumbing left out), right: where the samples are themselves.", ""]
    for bot, result in report["profiles"].items():
        for name, summary in result.get("processes", {}).items():
            lines.append(f"### {bot} {name} ({summary.get('samples', 0)} samples)")
            lines.append("")
            lines.append("| in the function or below | % | own time | % |")
            lines.append("|---|---|---|---|")
            inclusive, own = summary.get("inclusive", []), summary.get("own", [])
            for index in range(max(len(inclusive), len(own))):
                left = inclusive[index] if index < len(inclusive) else {"function": "", "percent": ""}
                right = own[index] if index < len(own) else {"function": "", "percent": ""}
                lines.append(f"| `{left['function']}` | {left['percent']} | `{right['function']}` | "
                             f"{right['percent']} |")
            lines.append("")
    lines += [f"![latency against load]({report['plot']})", ""]
    return "\n".join(lines)


def _commit(project: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project, capture_output=True, text=True,
                              check=True).stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        marker = project / ".bench-commit"
        return marker.read_text().strip() if marker.exists() else "unknown"


async def run_bench(project: Path, model: Path, seconds: float, rate: float, label: str,
                    profile_seconds: float = 14, profile_farmers: int = 5, scaled: bool = True) -> Dict[str, Any]:
    python = str(project / ".venv" / "bin" / "python")
    if not Path(python).exists():
        python = sys.executable
    report: Dict[str, Any] = {
        "label": label, "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "ours_commit": _commit(project), "machine": {"cpus": os.cpu_count(),
                                                   "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "load_average_start": _load_average(), "seconds_per_phase": seconds, "open_loop_rate": rate,
        "profile_farmers": profile_farmers,
    }
    _, stock_training = ensure_stock_bot(python)  # before ours starts: training must not overlap the start-up
    if stock_training is not None:
        report["stock_training_seconds"] = stock_training
    phases: List[Dict[str, Any]] = []
    profiles: Dict[str, Any] = {}
    parse: Dict[str, Any] = {}
    processes: Dict[str, Dict[str, Any]] = {}
    ours = await start_ours(project, model, python)
    try:
        stock = await start_stock(python)  # after ours is up, so neither start-up slows the other
        try:
            for stack in (ours, stock):  # warm both: first conversations fill caches
                await closed_loop(stack, "rest", 1, 3)
            await closed_loop(ours, "webchat", 1, 3)
            for stack in (ours, stock):
                parse[stack.name] = await parse_alone(stack)
            for farmers in FARMER_LEVELS:  # ours and stock alternate, so a burst of other work hits both alike
                for stack in (ours, stock):
                    phases.append(await closed_loop(stack, "rest", farmers, seconds))
                phases.append(await closed_loop(ours, "webchat", farmers, seconds))
            for stack in (ours, stock):
                phases.append(await open_loop(stack, "rest", rate, seconds))
            phases.append(await open_loop(ours, "webchat", rate, seconds))
            for stack in (ours, stock):
                profiles[stack.name] = await profile(stack, profile_farmers, profile_seconds, label)
            for stack in (ours, stock):
                processes[stack.name] = {name: {"ready_seconds": server.ready_seconds, "rss_mb": server.rss_mb()}
                                         for name, server in stack.servers.items()}
        finally:
            stock.stop()
    finally:
        ours.stop()
    scaled_start: Optional[float] = None
    if scaled and project == PROJECT_ROOT:  # the scaled stack runs this checkout (scripts/scaled_stack.py)
        starting = time.monotonic()
        scaled_stack = await start_ours_scaled()
        try:
            scaled_start = round(time.monotonic() - starting, 1)
            await closed_loop(scaled_stack, "rest", 1, 3)  # warm, as the others were
            for farmers in FARMER_LEVELS:
                for channel in ("rest", "webchat"):
                    phases.append(await closed_loop(scaled_stack, channel, farmers, seconds))
        finally:
            scaled_stack.stop()
            if scaled_stack.workdir is not None:
                shutil.rmtree(scaled_stack.workdir, ignore_errors=True)
    suffix = "" if label == "after" else f"_{label}"
    plot_path = REPORT_DIR / f"e2e_bench{suffix}.svg"
    report.update({"phases": phases, "ratios": ratios(phases), "parse": parse, "profiles": profiles,
                   "processes": processes, "scaled_start_seconds": scaled_start,
                   "load_average_end": _load_average(), "plot": plot_path.name,
                   "ok": all(phase["errors"] == 0 for phase in phases)})
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    plot(phases, plot_path, f"Xiangxin ({report['ours_commit']}) vs stock rasa init, {label}; "
                            f"load avg {report['load_average_start'][0]}→{report['load_average_end'][0]}")
    write_report(f"e2e_bench{suffix}", report, markdown(report))
    for stack in (ours, stock):
        if stack.workdir is not None:
            shutil.rmtree(stack.workdir, ignore_errors=True)
    return report


def _arguments(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=12, help="length of each load phase")
    parser.add_argument("--rate", type=float, default=6, help="open-loop arrivals per second")
    parser.add_argument("--label", default="after", help="report name suffix (the default writes e2e_bench.*)")
    parser.add_argument("--project", type=Path, default=PROJECT_ROOT, help="checkout whose stack is benchmarked")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "xiangxin.tar.gz")
    parser.add_argument("--no-scaled", dest="scaled", action="store_false",
                        help="leave out the scaled stack (nginx, 2 Rasa, PostgreSQL, Redis)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Run the benchmark (python -m bench runs it with the defaults); returns the report."""
    arguments = _arguments(argv if argv is not None else [])
    if not arguments.model.exists():
        return {"ok": False, "error": f"{arguments.model} is missing: run `make setup` (it trains when needed)"}
    report = asyncio.run(run_bench(arguments.project.resolve(), arguments.model.resolve(), arguments.seconds,
                                   arguments.rate, arguments.label, scaled=arguments.scaled))
    # python -m bench prints the whole report; the summary is what a person reads first.
    suffix = "" if arguments.label == "after" else f"_{arguments.label}"
    return {"ok": report["ok"], "report": str(REPORT_DIR / f"e2e_bench{suffix}.md"),
            "phases": [{key: phase[key] for key in ("bot", "channel", "load", "farmers", "arrivals_per_second",
                                                   "p50_ms", "p95_ms", "p99_ms", "messages_per_second",
                                                   "cpu_ms_per_message_total") if key in phase}
                       for phase in report["phases"]],
            "ratios": report["ratios"], "processes": report["processes"], "parse": report["parse"]}


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
