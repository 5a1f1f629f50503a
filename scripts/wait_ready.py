"""Wait until every process of `make run` answers, then print where to find them (web chat first).

Runs as one more Procfile process: if something never comes up it exits non-zero, and honcho
stops the others, so a broken start is loud instead of half-working.
"""
from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from typing import Dict, Tuple

from settings import Settings, load_settings


def probes(settings: Settings) -> Dict[str, Tuple[str, str]]:
    """name → (address shown to the user, URL that answers 200 once the process is ready)."""
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    console = f"http://{settings.console_host}:{settings.console_port}"
    rasa = f"http://{settings.rasa_host}:{settings.rasa_port}"
    actions = f"http://{settings.actions_host}:{settings.actions_port}"
    token = settings.rasa_api_token
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
    settings = load_settings()
    pending = probes(settings)
    shown = {name: address for name, (address, _url) in pending.items()}
    deadline = time.monotonic() + settings.ready_timeout_seconds
    while pending and time.monotonic() < deadline:
        for name, (_address_shown, url) in list(pending.items()):
            if _answers(url):
                del pending[name]
        if pending:
            time.sleep(1)
    if pending:
        waited = settings.ready_timeout_seconds
        print(f"Not ready after {waited}s: {', '.join(pending)}. See the log lines above.", flush=True)
        return 1
    lines = ["", "乡信已启动 Xiangxin is ready (Ctrl-C stops everything):"]
    lines += [f"  {name:<18} {url}" for name, url in shown.items()]
    print("\n".join(lines) + "\n", flush=True)
    while True:  # stay alive: honcho stops all processes when one exits
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
