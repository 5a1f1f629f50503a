"""Two real Rasa servers behind nginx on one PostgreSQL tracker store and one Redis lock store (`make test-scale`).

100 farmers talk at once, interleaved across both servers, each sending one message, then two at once (a double
tap), then one more, straight to Rasa's gateway channel through nginx as the gateways do (the gateway answers a
farmer's messages one at a time itself, so only a farmer reaching two gateways, or two servers, sends a pair at
once; here every pair does). Afterwards the tracker store is read: every message is in its conversation once, in
the order sent (the pair in either order), each followed by the bot's answer.

With sender affinity (nginx `hash $http_x_sender consistent`) each conversation stays on one server. Without it
the two messages of a pair reach both servers at once, and Rasa's open-source Redis lock store races then
(RasaHQ/rasa#9213, the fix reverted in #11428): CI's run on 2026-11-30 got one message of 400 answered with
nothing, Rasa's "Could not acquire lock" after the other server deleted the lock under its fresh ticket.
endpoints.production.yml therefore names our lock store, which makes each change of a lock one Redis transaction
(rasa_extensions/lock_store.py; tests/rasa_extensions/test_lock_store.py reproduces the race). The run without
affinity now holds the lock store to the same standard as the run with it, and records what it saw
(var/scale/no_affinity.json); affinity stays, as it saves the second server waiting on the lock.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from scripts.demo_knowledge import build_knowledge_db
from scripts.scaled_stack import nginx_conf
from settings import PROJECT_ROOT, Settings
from tests.postgres import PostgresServer
from tests.servers import MODEL, free_port, wait_for
from tests.unavailable import unavailable

pytestmark = [pytest.mark.scale, pytest.mark.postgres]

FARMERS = 100
QUESTIONS = ("玉米多少钱一斤", "那小麦呢", "郑州的呢", "鸡蛋价格")


@pytest.fixture(scope="module")
def two_rasa_servers(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict]:
    """Two action servers and two Rasa servers on a throwaway PostgreSQL tracker store and the machine's Redis."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test-scale trains it first).")
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        unavailable("nginx is not installed (apt-get install nginx; .ci/run does)")
    workdir = tmp_path_factory.mktemp("scale")
    with postgres_server.throwaway("xx_scale_tracker") as tracker_url, \
            postgres_server.throwaway("xx_scale_knowledge") as knowledge_url:
        build_knowledge_db(knowledge_url)
        base = postgres_server.base_url
        webhook_secret = secrets.token_urlsafe(32)
        env = dict(os.environ, KNOWLEDGE_DB_URL=knowledge_url, RASA_TELEMETRY_ENABLED="false",
                   RASA_WEBHOOK_SECRET=webhook_secret, TRACKER_DB_HOST=base.host or "127.0.0.1",
                   TRACKER_DB_PORT=str(base.port or 5432), TRACKER_DB_NAME=tracker_url.rsplit("/", 1)[1],
                   TRACKER_DB_USER=base.username or "postgres", TRACKER_DB_PASSWORD=base.password or "",
                   REDIS_HOST="127.0.0.1", REDIS_PORT="6379")
        actions_ports = [free_port(), free_port()]
        rasa_ports = [free_port(), free_port()]
        balancer = {"rasa": free_port(), "actions": free_port(), "gateway": free_port()}
        processes = {}
        try:
            for number, port in enumerate(actions_ports):
                processes[f"actions{number}"] = (
                    [sys.executable, "-m", "actions"], dict(env, ACTIONS_PORT=str(port)), f"http://127.0.0.1:{port}/health")
            for number, port in enumerate(rasa_ports):
                # Each Rasa server calls the action servers through nginx, as in `make run-scaled`.
                processes[f"rasa{number}"] = (
                    [str(Path(sys.executable).parent / "rasa"), "run", "--model", str(MODEL), "--endpoints",
                     str(PROJECT_ROOT / "endpoints.production.yml"), "--credentials",
                     str(PROJECT_ROOT / "credentials.yml"), "--interface", "127.0.0.1", "--port", str(port)],
                    dict(env, ACTION_SERVER_URL=f"http://127.0.0.1:{balancer['actions']}/webhook"),
                    f"http://127.0.0.1:{port}/")
            started = {}
            for name, (command, process_env, _url) in processes.items():
                log = workdir / f"{name}.log"
                started[name] = (subprocess.Popen(command, cwd=PROJECT_ROOT, env=process_env, stdout=log.open("w"),
                                                  stderr=subprocess.STDOUT), log)
            yield {"workdir": workdir, "nginx": nginx, "rasa_ports": rasa_ports, "actions_ports": actions_ports,
                   "balancer": balancer, "tracker_url": tracker_url, "secret": webhook_secret,
                   "wait": lambda: [wait_for(url, *started[name]) for name, (_c, _e, url) in processes.items()]}
        finally:
            for process, _log in started.values():
                process.terminate()
            for process, _log in started.values():
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _start_nginx(stack: Dict, affinity: bool) -> subprocess.Popen:
    folder = stack["workdir"] / ("nginx-affinity" if affinity else "nginx-round-robin")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "temp" / sub).mkdir(parents=True, exist_ok=True)
    settings = Settings(rasa_port=stack["balancer"]["rasa"], actions_port=stack["balancer"]["actions"],
                        gateway_port=stack["balancer"]["gateway"])
    # The processes behind nginx run on the free ports the fixture chose.
    behind = {"rasa": stack["rasa_ports"], "actions": stack["actions_ports"], "gateway": [free_port()]}
    conf = nginx_conf(settings, folder, affinity=affinity, behind=behind)
    (folder / "nginx.conf").write_text(conf, encoding="utf-8")
    process = subprocess.Popen([stack["nginx"], "-p", str(folder), "-c", str(folder / "nginx.conf")],
                               stdout=(folder / "out.log").open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", stack["balancer"]["rasa"])) == 0:
                return process
        if process.poll() is not None:
            raise RuntimeError((folder / "out.log").read_text() + (folder / "nginx-error.log").read_text())
        time.sleep(0.2)
    raise RuntimeError("nginx did not start")


async def _converse(stack: Dict, run: str) -> Dict[str, List[str]]:
    """Every farmer's messages, sent through nginx; returns sender → texts in the order sent (pair sorted)."""
    url = f"http://127.0.0.1:{stack['balancer']['rasa']}/webhooks/gateway/webhook"
    failures: List[str] = []
    sent: Dict[str, List[str]] = {}
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def say(sender: str, message: str) -> None:
            headers = {"X-Gateway-Secret": stack["secret"], "X-Sender": sender}
            async with session.post(url, json={"sender": sender, "message": message, "metadata": {}},
                                    headers=headers) as response:
                body = await response.json(content_type=None) if response.status == 200 else None
                if response.status != 200 or not body:
                    failures.append(f"{sender} {message}: HTTP {response.status} {body!r}")

        async def farmer(number: int) -> None:
            sender = f"web-scale-{run}-{number:03d}"
            texts = [f"{QUESTIONS[index % len(QUESTIONS)]} {number}-{index}" for index in range(4)]
            sent[sender] = texts
            await say(sender, texts[0])
            await asyncio.gather(say(sender, texts[1]), say(sender, texts[2]))
            await say(sender, texts[3])

        await asyncio.gather(*(farmer(number) for number in range(FARMERS)))
    assert failures == [], f"{len(failures)} messages not answered: {failures[:5]}"
    return sent


def _problems(tracker_url: str, sent: Dict[str, List[str]]) -> Dict[str, str]:
    """sender → what is wrong with their conversation in the tracker store (nothing, for a complete one)."""
    engine = create_engine(tracker_url, future=True)
    problems: Dict[str, str] = {}
    try:
        with engine.connect() as connection:
            for sender, texts in sent.items():
                rows = connection.execute(
                    text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
                    {"sender": sender}).all()
                users = [json.loads(data).get("text") for kind, data in rows if kind == "user"]
                # Each message is followed by the bot's answer before the next message is read.
                starts = [index for index, (kind, _data) in enumerate(rows) if kind == "user"]
                answered = [any(kind == "bot" for kind, _data in rows[begin:end])
                            for begin, end in zip(starts, [*starts[1:], len(rows)], strict=True)]
                expected_orders = ([texts[0], texts[1], texts[2], texts[3]], [texts[0], texts[2], texts[1], texts[3]])
                if sorted(users) != sorted(texts):
                    problems[sender] = f"messages in the tracker {users}, sent {texts}"
                elif users not in expected_orders:
                    problems[sender] = f"out of order: {users}"
                elif not rows or rows[-1][0] != "action" or "action_listen" not in rows[-1][1]:
                    problems[sender] = "the conversation does not end listening"
                elif not all(answered):
                    problems[sender] = "a message without an answer before the next one"
    finally:
        engine.dispose()
    return problems


def test_with_sender_affinity_every_conversation_is_complete_and_in_order(two_rasa_servers) -> None:
    two_rasa_servers["wait"]()
    nginx = _start_nginx(two_rasa_servers, affinity=True)
    try:
        sent = asyncio.run(_converse(two_rasa_servers, "affinity"))
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
    assert _problems(two_rasa_servers["tracker_url"], sent) == {}


def test_without_affinity_the_lock_store_keeps_every_conversation_complete_and_in_order(two_rasa_servers) -> None:
    two_rasa_servers["wait"]()
    nginx = _start_nginx(two_rasa_servers, affinity=False)
    try:
        sent = asyncio.run(_converse(two_rasa_servers, "round-robin"))
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
    problems = _problems(two_rasa_servers["tracker_url"], sent)
    record = PROJECT_ROOT / "var" / "scale" / "no_affinity.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"farmers": FARMERS, "broken_conversations": len(problems),
                                  "examples": dict(list(problems.items())[:10])}, ensure_ascii=False, indent=2),
                      encoding="utf-8")
    print(f"Without sender affinity: {len(problems)} of {FARMERS} conversations incomplete or out of order; "
          f"details in {record}")
    assert problems == {}
