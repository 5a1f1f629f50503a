"""Starting real servers in tests: a free port, and waiting until a started process answers."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "xiangxin.tar.gz"
# A deadline for readiness, not a speed check: Rasa loads its model in ~40 s on a quiet machine, but took
# over ten minutes on this two-core machine shared with several trainings, and CI must not flake on that.
START_TIMEOUT_SECONDS = 900


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    """Until `url` answers 200; fails with the end of `log` when the process exits or the deadline passes."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-3000:]}")
