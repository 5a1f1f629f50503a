"""Write var/local.env: a random local secret for each one the environment does not set.

Secrets never live in the repository. honcho lets this file override the environment, so a
secret the environment does set is left out of the file; generated ones are kept across runs.
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

NAMES = ("RASA_API_TOKEN", "RASA_WEBHOOK_SECRET", "CONSOLE_SECRET_KEY", "TELEGRAM_WEBHOOK_SECRET", "WEBCHAT_SECRET_KEY")


def main(path: str) -> None:
    """Write any missing secret to the env file at `path`."""
    env_file = Path(path)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    kept = dict(line.split("=", 1) for line in existing.splitlines() if "=" in line)
    lines = [
        f"{name}={kept.get(name) or secrets.token_urlsafe(32)}"
        for name in NAMES
        if not os.environ.get(name)
    ]
    env_file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    env_file.chmod(0o600)


if __name__ == "__main__":
    main(sys.argv[1])
