"""Scheduled work that must run once per due time however many processes try: a lease row per job in
`scheduled_run`.

A process runs a job for a due time only after winning `claim_due_run`, a conditional UPDATE that moves the
row's `due_at` forward to that due time; every other process (another gateway, a restarted one, cron) finds
`due_at` already there and skips it. The daily retention run uses it (knowledge.privacy.retention), and so does
the push scheduler's noticing round, which also escalates unanswered tickets (bot/push_scheduler.py).
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows, insert_or_ignore
from knowledge.models import ScheduledRun, utcnow

_EPOCH = dt.datetime(1970, 1, 1)


def scheduled_run(session: Session, name: str) -> ScheduledRun:
    """The lease row of job `name`, created when missing."""
    insert_or_ignore(session, ScheduledRun.__table__, {"name": name}, ["name"])
    run = session.get(ScheduledRun, name)
    assert run is not None  # inserted just above when missing
    return run


def claim_due_run(session: Session, name: str, due_at: dt.datetime, worker: str,
                  now: Optional[dt.datetime] = None) -> bool:
    """True when this worker is the first to claim job `name` for `due_at`; commit before running it."""
    scheduled_run(session, name)
    return count_changed_rows(session,
        update(ScheduledRun)
        .where(ScheduledRun.name == name, or_(ScheduledRun.due_at.is_(None), ScheduledRun.due_at < due_at))
        .values(due_at=due_at, claimed_by=worker[:64], claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    ) == 1


def finish_run(session: Session, name: str, now: Optional[dt.datetime] = None) -> None:
    """Note that job `name` finished its claimed run (for the console and for people reading the table)."""
    scheduled_run(session, name).finished_at = now or utcnow()


def due_every(now: dt.datetime, seconds: float) -> dt.datetime:
    """The latest due time of a job run every `seconds` (counted from midnight UTC 1970) at or before `now`."""
    elapsed = (now - _EPOCH).total_seconds()
    return _EPOCH + dt.timedelta(seconds=elapsed - elapsed % seconds)


def due_daily(now: dt.datetime, timezone: dt.tzinfo, hour: int) -> dt.datetime:
    """The latest daily due time (`hour` o'clock in `timezone`) at or before `now`; both naive UTC."""
    local = now.replace(tzinfo=dt.timezone.utc).astimezone(timezone)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due > local:
        due -= dt.timedelta(days=1)
    return due.astimezone(dt.timezone.utc).replace(tzinfo=None)
