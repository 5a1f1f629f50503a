"""A feed's schedule: every N minutes, or daily at a local time, and the next due time after a moment."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional, Tuple

_EVERY = re.compile(r"^every:(\d{1,5})$")
_DAILY = re.compile(r"^daily:(\d{1,2}):(\d{2})$")
MIN_MINUTES = 5
MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Schedule:
    """Every `minutes` minutes, or (minutes None) daily at `at` local time."""

    minutes: Optional[int] = None
    at: Optional[dt.time] = None

    def __str__(self) -> str:
        if self.minutes is not None:
            return f"every:{self.minutes}"
        assert self.at is not None
        return f"daily:{self.at.strftime('%H:%M')}"

    def describe(self) -> str:
        """The schedule in Chinese, for the console."""
        if self.minutes is not None:
            if self.minutes % 60 == 0:
                return f"每 {self.minutes // 60} 小时"
            return f"每 {self.minutes} 分钟"
        assert self.at is not None
        return f"每天 {self.at.strftime('%H:%M')}（北京时间）"


def parse_schedule(text: str) -> Tuple[Optional[Schedule], Optional[str]]:
    """The schedule written as stored ("every:60", "daily:07:30") or as people type it ("60", "07:30").

    Returns the schedule, or a reason in plain Chinese.
    """
    value = (text or "").strip().lower().replace("：", ":")
    if value.isdigit():
        value = f"every:{value}"
    elif re.fullmatch(r"\d{1,2}:\d{2}", value):
        value = f"daily:{value}"
    every = _EVERY.match(value)
    if every:
        minutes = int(every.group(1))
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            return None, f"间隔要在 {MIN_MINUTES} 分钟到 7 天之间"
        return Schedule(minutes=minutes), None
    daily = _DAILY.match(value)
    if daily:
        hour, minute = int(daily.group(1)), int(daily.group(2))
        if hour > 23 or minute > 59:
            return None, "每天的时间要写成 07:30 这样"
        return Schedule(at=dt.time(hour, minute)), None
    return None, "频率写分钟数（如 60），或每天的时间（如 07:30）"


def next_run(schedule: Schedule, after: dt.datetime, timezone: dt.tzinfo) -> dt.datetime:
    """The first due time strictly after `after` (naive UTC, as stored), naive UTC."""
    if schedule.minutes is not None:
        return after + dt.timedelta(minutes=schedule.minutes)
    assert schedule.at is not None
    local = after.replace(tzinfo=dt.timezone.utc).astimezone(timezone)
    due = dt.datetime.combine(local.date(), schedule.at, tzinfo=timezone)
    if due <= local:
        due = dt.datetime.combine(local.date() + dt.timedelta(days=1), schedule.at, tzinfo=timezone)
    return due.astimezone(dt.timezone.utc).replace(tzinfo=None)
