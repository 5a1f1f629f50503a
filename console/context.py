"""What every view needs from the app: the knowledge DB session factory, the tracker reader and paths."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

from aiohttp import web

from console.nlu_export import DomainNames
from console.password_checks import PasswordCheckGate
from console.telegram_files import TelegramFiles
from knowledge.conversations.tracker import TrackerReader
from knowledge.db import SessionFactory
from knowledge.feeds.fetching import FeedPolicy
from knowledge.people.login import LoginLimits


@dataclass
class ConsoleContext:
    """The app-wide resources of the console."""

    sessions: SessionFactory
    tracker: TrackerReader
    nlu_dir: Path
    domain: DomainNames
    upload_dir: Path
    today: Callable[[], dt.date]
    password_checks: PasswordCheckGate
    login_limits: LoginLimits
    # Farmers' files through the Bot API; None when the console has no TELEGRAM_BOT_TOKEN.
    telegram_files: Optional[TelegramFiles] = None
    # What price feeds may reach (PRICE_FEED_*): the feed form checks sources against it.
    feed_policy: FeedPolicy = field(default_factory=FeedPolicy)


CONTEXT_KEY = web.AppKey("console_context", ConsoleContext)


def console_context(request: web.Request) -> ConsoleContext:
    """The console's resources for this request."""
    return request.app[CONTEXT_KEY]


def page_number(query: Mapping[str, str]) -> int:
    """The ?page= number of a query string, at least 1."""
    try:
        return max(1, int(query.get("page", "1")))
    except ValueError:
        return 1
