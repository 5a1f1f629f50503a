"""The installation's one time zone (TIMEZONE, Asia/Shanghai by default) for every date a farmer or officer
sees and every date rule: today, the future-date check of prices, dashboard days, ticket and audit times,
the hour of daily digests and of the retention run.

The database keeps naive UTC (knowledge.models.utcnow); only what is shown or compared with a farmer's or
officer's day is turned into local time, here.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Optional

from settings import load_settings

# What officers call the default zone's time; another zone is shown by its name.
_ZONE_LABELS = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "PRC": "北京时间",
                "Asia/Hong_Kong": "香港时间", "Asia/Taipei": "台北时间", "UTC": "UTC"}


def local_zone(name: Optional[str] = None) -> dt.tzinfo:
    """The time zone `name`, or the installation's (TIMEZONE); settings refuse an unknown name at start."""
    return zoneinfo.ZoneInfo(name or load_settings().timezone)


def zone_label(name: Optional[str] = None) -> str:
    """How the console labels times: "北京时间" for Asia/Shanghai, else the zone's name."""
    name = name or load_settings().timezone
    return _ZONE_LABELS.get(name, name)


def local_now(zone: Optional[dt.tzinfo] = None) -> dt.datetime:
    """The current time in the installation's zone (aware)."""
    return dt.datetime.now(zone or local_zone())


def local_today(zone: Optional[dt.tzinfo] = None) -> dt.date:
    """Today's date where the farmers and officers are, not the server's (often UTC) date."""
    return local_now(zone).date()


def to_local(value: dt.datetime, zone: Optional[dt.tzinfo] = None) -> dt.datetime:
    """A stored naive-UTC time (or an aware one) in the installation's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(zone or local_zone())
