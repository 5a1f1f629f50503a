"""Every environment setting of 乡信, read and validated in one place, with defaults that work offline.

Each process (gateway, console, action server, knowledge CLI, the `make run` launcher) calls
`load_settings()` as it starts, so a bad value stops it at once with one line naming the variable
instead of failing in the middle of a farmer's question. The README's configuration table lists
exactly these variables (a test holds the two together). An empty variable counts as unset.
"""
from __future__ import annotations

import functools
import ipaddress
import os
import re
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Tuple

from pydantic import BaseSettings, Field, ValidationError, validator

PROJECT_ROOT = Path(__file__).resolve().parent
VAR_DIR = PROJECT_ROOT / "var"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DB_URL = re.compile(r"^[a-z][a-z0-9]*(\+[a-z0-9_]+)?://")
# Named in each Field rather than passed as **options, which pydantic's mypy plugin cannot check.
_PORT_MIN, _PORT_MAX = 1, 65535

SettingsSource = Callable[[BaseSettings], Dict[str, Any]]


def _without_empty(source: SettingsSource) -> SettingsSource:
    """The environment as `source` reads it, values stripped and empty ones dropped (unset, not "")."""

    def read(settings: BaseSettings) -> Dict[str, Any]:
        values = {name: value.strip() if isinstance(value, str) else value for name, value in source(settings).items()}
        return {name: value for name, value in values.items() if value != ""}

    return read


def _addresses(listed: str) -> FrozenSet[str]:
    return frozenset(item.strip() for item in listed.split(",") if item.strip())


class Settings(BaseSettings):
    """Runtime configuration from the environment; keyword arguments (tests) override it."""

    knowledge_db_url: str = f"sqlite:///{VAR_DIR / 'knowledge.db'}"
    tracker_db_url: str = f"sqlite:///{VAR_DIR / 'tracker.db'}"
    # Where `make run` starts Rasa and the action server; the URLs below follow them unless set.
    rasa_host: str = "127.0.0.1"
    rasa_port: int = Field(5005, ge=_PORT_MIN, le=_PORT_MAX)
    actions_host: str = "127.0.0.1"
    actions_port: int = Field(5055, ge=_PORT_MIN, le=_PORT_MAX)
    # Actions the action server runs at once, each on its own worker thread with its own knowledge DB
    # connection (actions/worker_threads.py), so a slow query never stalls the others.
    actions_concurrency: int = Field(8, ge=1)
    rasa_endpoints: str = "endpoints.yml"
    rasa_url: str = ""
    # Read by Rasa itself from endpoints.yml (`make run` exports it), hence the Rasa-style name.
    action_server_url: str = ""
    rasa_api_token: str = ""
    # Shared by the gateway and Rasa's gateway channel: Rasa answers only calls that carry it.
    rasa_webhook_secret: str = ""
    rasa_timeout_seconds: int = Field(4, ge=1)
    # Admission control (bot/admission.py): messages in Rasa at once from this gateway, and how many may wait
    # for a turn; a message without a turn by RASA_TIMEOUT_SECONDS is kept and answered later.
    rasa_concurrency: int = Field(8, ge=1)
    rasa_queue_limit: int = Field(50, ge=0)
    # How long a message already in Rasa may take before it is given up (its farmer was told at the deadline
    # that the answer comes later; Rasa keeps working on it, so the gateway keeps waiting for it).
    rasa_answer_timeout_seconds: int = Field(120, ge=1)
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8080, ge=_PORT_MIN, le=_PORT_MAX)
    # Messages a minute from one client address to the web chat, whatever cookies it sends; generous,
    # since a village information station puts many farmers behind one address.
    webchat_messages_per_minute_per_address: int = Field(120, ge=1)
    # Reverse proxies in front of the gateway, comma-separated: from these peers the client address is
    # taken from X-Forwarded-For.
    gateway_trusted_proxies: str = ""
    # Keys the HMAC that turns a web chat cookie into the farmer's sender id; several gateways must share it.
    webchat_secret_key: str = ""
    console_host: str = "127.0.0.1"
    console_port: int = Field(8000, ge=_PORT_MIN, le=_PORT_MAX)
    console_secret_key: str = ""
    # Behind HTTPS (production) the session cookie must carry the Secure flag; plain http locally.
    console_secure_cookies: bool = False
    # Sign-in limits: failures in a row before a username is locked, and for how long (short and fixed, so
    # nobody can keep an account locked); failures from one client address before it must wait, first for
    # the back-off, then twice as long after each further failure, up to the maximum.
    console_login_max_failures: int = Field(5, ge=1)
    console_login_lock_seconds: int = Field(300, ge=1)
    console_login_address_failures: int = Field(20, ge=1)
    console_login_address_backoff_seconds: int = Field(60, ge=1)
    console_login_address_backoff_max_seconds: int = Field(86400, ge=1)
    # argon2 checks (sign-in, password change) at once on worker threads, and how many may wait; beyond, "稍后再试".
    console_password_checks: int = Field(2, ge=1)
    console_password_check_queue: int = Field(8, ge=0)
    # Reverse proxies in front of the console, comma-separated: from these peers the client address is taken
    # from X-Forwarded-For.
    console_trusted_proxies: str = ""
    upload_dir: Path = VAR_DIR / "uploads"
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    # Webhook mode when set (the public HTTPS address Telegram posts to, served by the gateway's
    # own aiohttp app on GATEWAY_PORT); long polling otherwise.
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    push_interval_seconds: int = Field(30, ge=0)
    # The one time zone of every date farmers and officers see and every date rule (today, the future-date
    # check, dashboard days, ticket and audit times, digest hours, the retention run): knowledge.local_time.
    timezone: str = "Asia/Shanghai"
    stale_after_days: int = Field(7, ge=0, env="PRICE_STALE_AFTER_DAYS")
    # A new price more than this many times above or below its product's recent median is held for a
    # person to confirm (knowledge.prices.plausibility).
    price_outlier_factor: Decimal = Field(Decimal(3), gt=1, le=100)
    # The county or city this installation serves (a name or label the region table knows, e.g. 藁城 or
    # 河北省石家庄市藁城区): tickets of farmers whose home is unknown go to its officers. Empty: to no region.
    deployment_region: str = ""
    # A handoff ticket nobody answered for this many hours moves one region up (county → city → province),
    # again after as many hours at each level; 0 never escalates.
    handoff_escalate_after_hours: int = Field(24, ge=0)
    # Farmers' conversations, tickets, attachments and names older than this are anonymised (knowledge.privacy);
    # 180 days is the least China's Cybersecurity Law asks logs to be kept.
    personal_data_retention_days: int = Field(180, ge=1)
    # Yearly interest credited to the pension account in the calculator's estimate; 0 leaves interest out.
    pension_account_interest_percent: Decimal = Field(Decimal(0), ge=0, le=20)
    # Price feeds (knowledge.feeds): folder sources live under this directory; URL sources must start with one
    # of these comma-separated http(s) prefixes; and never reach a loopback, private, link-local or other
    # non-public address unless it lies in one of these comma-separated networks (CIDR), so that a feed can
    # reach neither Rasa, Redis nor the database.
    price_feed_root: Path = VAR_DIR / "feeds"
    price_feed_allowed_urls: str = ""
    price_feed_allowed_networks: str = ""
    # Bearer token a Prometheus scrape of /metrics (gateway, console) must send; empty: /metrics is open (bind the
    # processes to private addresses, or let nginx allow only the Prometheus server).
    metrics_token: str = ""
    log_level: str = "INFO"
    ready_timeout_seconds: int = Field(300, ge=1)

    class Config:
        allow_mutation = False

        @classmethod
        def customise_sources(cls, init_settings: SettingsSource, env_settings: SettingsSource,
                              file_secret_settings: SettingsSource) -> tuple:
            """Keyword arguments first, then the environment without its empty variables."""
            return init_settings, _without_empty(env_settings)

    @property
    def trusted_proxies(self) -> FrozenSet[str]:
        """GATEWAY_TRUSTED_PROXIES as a set of addresses."""
        return _addresses(self.gateway_trusted_proxies)

    @property
    def console_proxies(self) -> FrozenSet[str]:
        """CONSOLE_TRUSTED_PROXIES as a set of addresses."""
        return _addresses(self.console_trusted_proxies)

    @property
    def feed_allowed_urls(self) -> Tuple[str, ...]:
        """PRICE_FEED_ALLOWED_URLS as a tuple of URL prefixes."""
        return tuple(sorted(_addresses(self.price_feed_allowed_urls)))

    @property
    def feed_allowed_networks(self) -> Tuple[Any, ...]:
        """PRICE_FEED_ALLOWED_NETWORKS as ip_network objects."""
        return tuple(ipaddress.ip_network(item, strict=False) for item in sorted(_addresses(
            self.price_feed_allowed_networks)))

    @validator("price_feed_allowed_urls")
    def _feed_url_prefixes(cls, value: str) -> str:  # noqa: N805 (pydantic)
        for item in _addresses(value):
            if not re.match(r"^https?://[^/?#@\s]+(/|$)", item):
                raise ValueError(f"{item!r} is not an http:// or https:// address")
        return value

    @validator("price_feed_allowed_networks")
    def _feed_networks(cls, value: str) -> str:  # noqa: N805 (pydantic)
        for item in _addresses(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as error:
                raise ValueError(f"{item!r} is not a network such as 10.1.2.0/24: {error}") from None
        return value

    @validator("rasa_url", always=True)
    def _rasa_url_follows_rasa(cls, value: str, values: Dict[str, Any]) -> str:  # noqa: N805 (pydantic)
        if value or "rasa_port" not in values:
            return value
        return f"http://{values['rasa_host']}:{values['rasa_port']}"

    @validator("action_server_url", always=True)
    def _action_url_follows_actions(cls, value: str, values: Dict[str, Any]) -> str:  # noqa: N805 (pydantic)
        if value or "actions_port" not in values:
            return value
        return f"http://{values['actions_host']}:{values['actions_port']}/webhook"

    @validator("rasa_url", "action_server_url", "telegram_api_base_url", "telegram_webhook_url")
    def _http_url(cls, value: str) -> str:  # noqa: N805 (pydantic)
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// address")
        return value

    @validator("knowledge_db_url", "tracker_db_url")
    def _database_url(cls, value: str) -> str:  # noqa: N805 (pydantic)
        if not _DB_URL.match(value):
            raise ValueError("must be a database URL such as sqlite:///var/knowledge.db or postgresql://user@host/db")
        return value

    @validator("timezone")
    def _known_timezone(cls, value: str) -> str:  # noqa: N805 (pydantic)
        # No fallback: a zone this machine does not know stops every process, rather than some of them
        # quietly counting days in another zone.
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be a time zone of the tz database, such as Asia/Shanghai "
                             "(install the tzdata package where the system has none)") from None
        return value

    @validator("log_level")
    def _known_level(cls, value: str) -> str:  # noqa: N805 (pydantic)
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()


def variable_names() -> Dict[str, str]:
    """Field name → the environment variable that sets it, for every setting."""
    names = {}
    for name, field in Settings.__fields__.items():
        names[name] = field.field_info.extra.get("env") or name.upper()
    return names


def _one_line(error: ValidationError) -> str:
    """The validation errors as one English line that names each variable and its bad value."""
    variables = variable_names()
    problems = []
    for item in error.errors():
        field = str(item["loc"][0])
        variable = variables.get(field, field)
        raw = os.environ.get(variable)
        shown = f"={raw.strip()!r}" if raw is not None and raw.strip() else ""
        problems.append(f"{variable}{shown}: {item['msg']}")
    return "Invalid setting " + "; ".join(problems)


@functools.cache
def load_settings() -> Settings:
    """The process's settings, read and validated on the first call; SystemExit with one line when a value is bad.

    Tests that change the environment re-read it with `load_settings.cache_clear()`.
    """
    try:
        return Settings()
    except ValidationError as error:
        raise SystemExit(_one_line(error)) from None

