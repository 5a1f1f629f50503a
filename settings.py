"""Every environment setting of 乡信, read in one place, with defaults that work offline.

Each process (gateway, console, action server, CLI) imports what it needs from here, so the
README's configuration table and the code cannot disagree about names or defaults.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Tuple

PROJECT_ROOT = Path(__file__).resolve().parent
VAR_DIR = PROJECT_ROOT / "var"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as error:
        raise SystemExit(f"Environment variable {name} must be a whole number, got {raw!r}") from error


def _env_list(name: str) -> Tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _env_percent(name: str, default: str) -> Decimal:
    raw = os.environ.get(name, "").strip() or default
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise SystemExit(f"Environment variable {name} must be a percentage such as 1.5, got {raw!r}") from error
    if not 0 <= value <= 20:
        raise SystemExit(f"Environment variable {name} must be between 0 and 20 (percent), got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime configuration, read from the environment once per process."""

    knowledge_db_url: str = field(
        default_factory=lambda: _env("KNOWLEDGE_DB_URL", f"sqlite:///{VAR_DIR / 'knowledge.db'}")
    )
    tracker_db_url: str = field(
        default_factory=lambda: _env("TRACKER_DB_URL", f"sqlite:///{VAR_DIR / 'tracker.db'}")
    )
    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", "http://127.0.0.1:5005"))
    rasa_api_token: str = field(default_factory=lambda: _env("RASA_API_TOKEN", ""))
    # Shared by the gateway and Rasa's gateway channel: Rasa answers only calls that carry it.
    rasa_webhook_secret: str = field(default_factory=lambda: _env("RASA_WEBHOOK_SECRET", ""))
    rasa_timeout_seconds: int = field(default_factory=lambda: _env_int("RASA_TIMEOUT_SECONDS", 4))
    gateway_host: str = field(default_factory=lambda: _env("GATEWAY_HOST", "127.0.0.1"))
    gateway_port: int = field(default_factory=lambda: _env_int("GATEWAY_PORT", 8080))
    # Messages a minute from one client address to the web chat, whatever cookies it sends.
    webchat_messages_per_minute_per_address: int = field(
        default_factory=lambda: _env_int("WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS", 120)
    )
    # Reverse proxies in front of the gateway: from these peers, the client address is taken from X-Forwarded-For.
    gateway_trusted_proxies: Tuple[str, ...] = field(default_factory=lambda: _env_list("GATEWAY_TRUSTED_PROXIES"))
    console_host: str = field(default_factory=lambda: _env("CONSOLE_HOST", "127.0.0.1"))
    console_port: int = field(default_factory=lambda: _env_int("CONSOLE_PORT", 8000))
    # Keys the HMAC that turns a web chat cookie into the farmer's sender id; several gateways must share it.
    webchat_secret_key: str = field(default_factory=lambda: _env("WEBCHAT_SECRET_KEY", ""))
    console_secret_key: str = field(default_factory=lambda: _env("CONSOLE_SECRET_KEY", ""))
    # Behind HTTPS (production) the session cookie must carry the Secure flag; plain http locally.
    console_secure_cookies: bool = field(
        default_factory=lambda: _env("CONSOLE_SECURE_COOKIES", "false").lower() in ("1", "true", "yes")
    )
    # Sign-in limits: failures in a row before a username is locked, and for how long (short and fixed, so
    # nobody can keep an account locked); failures from one client address before it must wait, first for
    # the back-off, then twice as long after each further failure, up to the maximum.
    console_login_max_failures: int = field(default_factory=lambda: _env_int("CONSOLE_LOGIN_MAX_FAILURES", 5))
    console_login_lock_seconds: int = field(default_factory=lambda: _env_int("CONSOLE_LOGIN_LOCK_SECONDS", 300))
    console_login_address_failures: int = field(
        default_factory=lambda: _env_int("CONSOLE_LOGIN_ADDRESS_FAILURES", 20)
    )
    console_login_address_backoff_seconds: int = field(
        default_factory=lambda: _env_int("CONSOLE_LOGIN_ADDRESS_BACKOFF_SECONDS", 60)
    )
    console_login_address_backoff_max_seconds: int = field(
        default_factory=lambda: _env_int("CONSOLE_LOGIN_ADDRESS_BACKOFF_MAX_SECONDS", 86400)
    )
    # argon2 checks (sign-in, password change) at once on worker threads, and how many may wait; beyond, "稍后再试".
    console_password_checks: int = field(default_factory=lambda: _env_int("CONSOLE_PASSWORD_CHECKS", 2))
    console_password_check_queue: int = field(default_factory=lambda: _env_int("CONSOLE_PASSWORD_CHECK_QUEUE", 8))
    # Reverse proxies in front of the console: from these peers, the client address is taken from X-Forwarded-For.
    console_trusted_proxies: Tuple[str, ...] = field(default_factory=lambda: _env_list("CONSOLE_TRUSTED_PROXIES"))
    telegram_bot_token: str = field(default_factory=lambda: _env("TELEGRAM_BOT_TOKEN", ""))
    telegram_api_base_url: str = field(
        default_factory=lambda: _env("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
    )
    # Webhook mode when set (the public HTTPS address Telegram posts to, served by the gateway's
    # own aiohttp app on GATEWAY_PORT); long polling otherwise.
    telegram_webhook_url: str = field(default_factory=lambda: _env("TELEGRAM_WEBHOOK_URL", ""))
    telegram_webhook_secret: str = field(default_factory=lambda: _env("TELEGRAM_WEBHOOK_SECRET", ""))
    push_interval_seconds: int = field(default_factory=lambda: _env_int("PUSH_INTERVAL_SECONDS", 30))
    # Daily price digests go out at the hour the farmer chose, in this time zone.
    push_timezone: str = field(default_factory=lambda: _env("PUSH_TIMEZONE", "Asia/Shanghai"))
    stale_after_days: int = field(default_factory=lambda: _env_int("PRICE_STALE_AFTER_DAYS", 7))
    # Yearly interest credited to the pension account in the calculator's estimate; 0 leaves interest out.
    pension_account_interest_percent: Decimal = field(
        default_factory=lambda: _env_percent("PENSION_ACCOUNT_INTEREST_PERCENT", "0")
    )
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))


def load_settings() -> Settings:
    """Read the settings from the current environment."""
    return Settings()
