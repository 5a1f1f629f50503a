"""Write var/local.env for `make run`: the addresses Rasa must be told, and a random local secret for each
one the environment does not set.

Rasa cannot read settings.py, so the values it needs (its host, port and endpoints file, and the action
server's URL that endpoints.yml reads as ${ACTION_SERVER_URL}) are written here from the one place they
are derived. Reading the settings also checks them, so a bad value stops `make run` before anything starts.
Secrets never live in the repository. honcho lets this file override the environment, so a secret the
environment does set is left out of the file; generated ones are kept across runs.
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Dict

from settings import Settings, load_settings

SECRETS = {"RASA_API_TOKEN": "rasa_api_token", "RASA_WEBHOOK_SECRET": "rasa_webhook_secret",
           "CONSOLE_SECRET_KEY": "console_secret_key", "TELEGRAM_WEBHOOK_SECRET": "telegram_webhook_secret",
           "WEBCHAT_SECRET_KEY": "webchat_secret_key"}


def for_rasa(settings: Settings) -> Dict[str, str]:
    """The environment the Rasa process needs from settings.py (the Procfile and endpoints.yml read it)."""
    return {
        "RASA_HOST": settings.rasa_host,
        "RASA_PORT": str(settings.rasa_port),
        "RASA_ENDPOINTS": settings.rasa_endpoints,
        "ACTION_SERVER_URL": settings.action_server_url,
    }


def main(path: str) -> None:
    """Write the env file at `path`: Rasa's derived addresses and any missing secret."""
    settings = load_settings()
    env_file = Path(path)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    kept = dict(line.split("=", 1) for line in existing.splitlines() if "=" in line)
    values = for_rasa(settings)
    for name, field in SECRETS.items():
        if not getattr(settings, field):
            values[name] = kept.get(name) or secrets.token_urlsafe(32)
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()), encoding="utf-8")
    env_file.chmod(0o600)


if __name__ == "__main__":
    main(sys.argv[1])
