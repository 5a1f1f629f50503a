"""The gateway stops promptly on SIGTERM (honcho's Ctrl-C, a deploy, the load bench stopping the scaled stack).

aiohttp's run_app waits up to a minute for every task started after it before it runs the cleanup context; the
drain and the schedulers loop until stopped, so each stop of `python -m bot` used to take that minute (the load
bench's scaled stack had to be killed). They are stopped on shutdown now, before that wait.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from settings import PROJECT_ROOT
from tests.servers import free_port, wait_for


def test_the_gateway_exits_soon_after_sigterm_with_its_schedulers_running(kb_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "KNOWLEDGE_DB_URL": kb_url, "TRACKER_DB_URL": f"sqlite:///{tmp_path / 't.db'}",
           "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "RASA_URL": f"http://127.0.0.1:{free_port()}",
           "RASA_WEBHOOK_SECRET": "s", "TELEGRAM_BOT_TOKEN": "", "PUSH_INTERVAL_SECONDS": "30", "LOG_LEVEL": "WARNING"}
    log = tmp_path / "gateway.log"
    gateway = subprocess.Popen([sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", gateway, log)
        time.sleep(1)  # the schedulers' first rounds are under way
        stopping = time.monotonic()
        gateway.send_signal(signal.SIGTERM)
        # A deadline well under aiohttp's minute, with room for a slow shared machine.
        assert gateway.wait(timeout=20) == 0, log.read_text()
        assert time.monotonic() - stopping < 20
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
