"""The generated nginx configuration (scripts/scaled_stack.py) run by Debian's nginx in front of two real gateway
apps and two stand-ins for Rasa's gateway channel: each farmer's messages reach one Rasa server (sender affinity),
each browser one gateway (cookie affinity), the client address is the browser's (X-Forwarded-For from the
trusted proxy), /healthz answers through nginx. Stand-ins, not Rasa, because what is tested is the balancer's
routing, which does not depend on what Rasa answers (tests/scale/test_two_rasa_servers.py runs real ones)."""
from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from scripts.scaled_stack import nginx_conf
from settings import Settings
from tests.unavailable import unavailable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingRasa:
    """Answers like Rasa's gateway channel and records which sender reached it."""

    def __init__(self, name: str, seen: Dict[str, Set[str]]) -> None:
        self.name = name
        self.seen = seen

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen[body["sender"]].add(self.name)
        return web.json_response([{"recipient_id": body["sender"], "text": f"{self.name}答：{body['message']}"}])


async def _serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        unavailable("nginx is not installed (apt-get install nginx; .ci/run does)")
    return found


@pytest.mark.parametrize("affinity", [True, False], ids=["sender-affinity", "round-robin"])
async def test_nginx_routes_each_farmer_to_one_rasa_server_and_each_browser_to_one_gateway(
        tmp_path, seeded_db_url, affinity) -> None:
    nginx = _nginx()
    seen: Dict[str, Set[str]] = defaultdict(set)
    rasa_ports, gateway_ports = [_free_port(), _free_port()], [_free_port(), _free_port()]
    balancer = {"rasa": _free_port(), "actions": _free_port(), "gateway": _free_port()}
    runners: List[web.AppRunner] = []
    for number, port in enumerate(rasa_ports):
        app = web.Application()
        app.router.add_post("/webhooks/gateway/webhook", RecordingRasa(f"rasa{number}", seen).webhook)
        runners.append(await _serve(app, port))
    addresses: Dict[int, List[str]] = defaultdict(list)
    gateways_of: Dict[str, Set[int]] = defaultdict(set)
    gateways = []
    for port in gateway_ports:
        settings = Settings(rasa_url=f"http://127.0.0.1:{balancer['rasa']}", knowledge_db_url=seeded_db_url,
                            push_interval_seconds=0, gateway_trusted_proxies="127.0.0.1",
                            webchat_secret_key="shared-by-both-gateways" * 2)
        app = create_app(settings)

        @web.middleware
        async def note_address(request: web.Request, handler, port=port):
            from bot.webchat import _sender_id, client_address
            if request.path == "/api/messages":
                addresses[port].append(client_address(request))
                gateways_of[_sender_id(request)].add(port)
            return await handler(request)

        app.middlewares.append(note_address)
        gateways.append(app)
        runners.append(await _serve(app, port))
    folder = tmp_path / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "temp" / sub).mkdir(parents=True, exist_ok=True)
    conf = nginx_conf(Settings(rasa_port=balancer["rasa"], actions_port=balancer["actions"],
                               gateway_port=balancer["gateway"]), folder, affinity=affinity,
                      behind={"rasa": rasa_ports, "actions": [_free_port()], "gateway": gateway_ports})
    (folder / "nginx.conf").write_text(conf, encoding="utf-8")
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                               stdout=(folder / "out.log").open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", balancer["gateway"])) == 0:
                    break
            assert process.poll() is None, (folder / "nginx-error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            await asyncio.sleep(0.1)
        base = f"http://127.0.0.1:{balancer['gateway']}"
        assert (await _get_status(base + "/healthz")) == 200

        async def browser(number: int) -> None:
            jar = aiohttp.CookieJar(unsafe=True)
            # From 127.0.0.2, so the browser's address differs from nginx's (the trusted 127.0.0.1); the
            # X-Forwarded-For it sends itself is a lie the gateway must not believe.
            connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
            async with aiohttp.ClientSession(base, cookie_jar=jar, connector=connector,
                                             headers={"X-Forwarded-For": "1.2.3.4"}) as session:
                await (await session.get("/")).read()
                for message in range(4):
                    response = await session.post("/api/messages", json={"message": f"问{number}-{message}"})
                    assert response.status == 200
                    assert (await response.json())["replies"][0]["text"].endswith(f"答：问{number}-{message}")

        await asyncio.gather(*(browser(number) for number in range(20)))
        farmers = [sender for sender in seen if sender.startswith("web-")]
        assert len(farmers) == 20
        if affinity:
            assert all(len(seen[sender]) == 1 for sender in farmers), "each farmer on one Rasa server"
            assert {name for sender in farmers for name in seen[sender]} == {"rasa0", "rasa1"}, "both servers used"
        else:
            assert any(len(seen[sender]) == 2 for sender in farmers), "round robin spreads a farmer over both"
        # Both gateways served browsers; a browser's messages all came to one (its cookie), each with the
        # browser's own address from nginx's X-Forwarded-For, never a spoofed entry further left.
        assert all(addresses[port] for port in gateway_ports)
        assert len(gateways_of) == 20 and all(len(ports) == 1 for ports in gateways_of.values())
        assert {address for port in gateway_ports for address in addresses[port]} == {"127.0.0.2"}
    finally:
        process.terminate()
        process.wait(timeout=30)
        for runner in runners:
            await runner.cleanup()


async def _get_status(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status
