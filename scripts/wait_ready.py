"""Wait until every process of `make run` answers, then print where to find them (web chat first).

Runs as one more Procfile process: if something never comes up it exits non-zero, and honcho
stops the others, so a broken start is loud instead of half-working.
"""
from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, Tuple

TIMEOUT_SECONDS = int(os.environ.get("READY_TIMEOUT_SECONDS", "300"))


def _address(host_var: str, port_var: str, default_port: int) -> str:
    return f"http://{os.environ.get(host_var) or '127.0.0.1'}:{os.environ.get(port_var) or default_port}"


def probes() -> Dict[str, Tuple[str, str]]:
    """name → (address shown to the user, URL that answers 200 once the process is ready)."""
    gateway = _address("GATEWAY_HOST", "GATEWAY_PORT", 8080)
    console = _address("CONSOLE_HOST", "CONSOLE_PORT", 8000)
    rasa = _address("RASA_HOST", "RASA_PORT", 5005)
    actions = _address("ACTIONS_HOST", "ACTIONS_PORT", 5055)
    token = os.environ.get("RASA_API_TOKEN", "")
    return {
        "网页聊天 web chat": (gateway + "/", gateway + "/healthz"),
        "管理台 console": (console + "/", console + "/healthz"),
        "Rasa server": (rasa, f"{rasa}/status?token={token}"),
        "Action server": (actions, actions + "/health"),
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    """Poll every probe until all answer or the timeout passes."""
    pending = probes()
    shown = {name: address for name, (address, _url) in pending.items()}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while pending and time.monotonic() < deadline:
        for name, (_address_shown, url) in list(pending.items()):
            if _answers(url):
                del pending[name]
        if pending:
            time.sleep(1)
    if pending:
        print(f"Not ready after {TIMEOUT_SECONDS}s: {', '.join(pending)}. See the log lines above.", flush=True)
        return 1
    lines = ["", "乡信已启动 Xiangxin is ready (Ctrl-C stops everything):"]
    lines += [f"  {name:<18} {url}" for name, url in shown.items()]
    print("\n".join(lines) + "\n", flush=True)
    while True:  # stay alive: honcho stops all processes when one exits
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
