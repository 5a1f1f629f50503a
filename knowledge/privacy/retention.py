"""Retention: farmers' personal data older than PERSONAL_DATA_RETENTION_DAYS is anonymised once a day.

What goes, when it is older than the period: the words of Rasa conversations (texts, entity and slot values,
the farmer's name in the metadata; intents and times stay for the statistics), the question and answer of
tickets no longer open and the officers' answers in the push queue, Telegram's file ids and the captions of
attachments, feedback comments, and farmers' names recorded longer ago than that (the gateway notes the name
again with the farmer's next message). What stays: intents, times, counts, regions, subscriptions, and reviewers'
corrections (checked training data, exported with phone and 身份证 numbers masked).

The run is due every day at RUN_HOUR in the push time zone. Whichever process first claims a due time runs it
(`claim_run`, a conditional UPDATE of one `scheduled_run` row: knowledge.scheduled), so several gateways run it
once; `python -m knowledge retention` runs it at once. The tracker store is walked only from where the last run stopped.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from knowledge.audit import record_change
from knowledge.db import KnowledgeStore, count_changed_rows
from knowledge.models import Farmer, FarmerAttachment, Feedback, HandoffTicket, Push, utcnow
from knowledge.privacy.audit_entries import rewrite_audited_fields
from knowledge.privacy.events import ERASED
from knowledge.privacy.tracker_writer import TrackerWriter
from knowledge.scheduled import claim_due_run, due_daily, scheduled_run

logger = logging.getLogger(__name__)

RETENTION_RUN = "retention"
ACTOR = "retention"
# Local time of the daily run: night, when farmers rarely write.
RUN_HOUR = 3
# Rasa writes an event a moment after its timestamp: each run looks a day further back than the last one reached.
OVERLAP = dt.timedelta(days=1)


@dataclass
class RetentionReport:
    """What one run anonymised: everything older than `older_than` (UTC)."""

    older_than: dt.datetime
    events: int = 0
    tickets: int = 0
    pushes: int = 0
    attachments: int = 0
    farmers: int = 0
    feedback: int = 0

    def counts(self) -> Dict[str, int]:
        """The counts by kind, for the audit entry and the command's output."""
        return {name: value for name, value in dataclasses.asdict(self).items() if name != "older_than"}


def claim_run(session: Session, name: str, due_at: dt.datetime, worker: str, now: Optional[dt.datetime] = None) -> bool:
    """True when this worker is the first to claim the run `name` for `due_at` (knowledge.scheduled)."""
    return claim_due_run(session, name, due_at, worker, now)


def last_due_time(now: dt.datetime, timezone: dt.tzinfo, hour: int = RUN_HOUR) -> dt.datetime:
    """The latest daily due time (`hour` o'clock in `timezone`) at or before `now`; both naive UTC."""
    return due_daily(now, timezone, hour)


def _epoch(moment: dt.datetime) -> float:
    return moment.replace(tzinfo=dt.timezone.utc).timestamp()


def _old_tickets(session: Session, cutoff: dt.datetime) -> List[int]:
    return list(session.scalars(
        select(HandoffTicket.id)
        .where(HandoffTicket.status != "open", HandoffTicket.updated_at < cutoff, HandoffTicket.question != ERASED)
    ))


def anonymise_knowledge_before(session: Session, cutoff: dt.datetime) -> Dict[str, int]:
    """Anonymise the knowledge DB's personal data older than `cutoff`; returns counts by kind. The caller commits."""
    quiet = {"synchronize_session": False}
    tickets = _old_tickets(session, cutoff)
    for start in range(0, len(tickets), 500):
        session.execute(
            update(HandoffTicket).where(HandoffTicket.id.in_(tickets[start:start + 500]))
            .values(question=ERASED, answer=case((HandoffTicket.answer.is_(None), None), else_=ERASED),
                    updated_by=ACTOR)
            .execution_options(**quiet)
        )
    rewrite_audited_fields(session, "handoff_ticket", tickets, {"question": ERASED, "answer": ERASED})
    pushes = count_changed_rows(session,
        update(Push).where(Push.created_at < cutoff, Push.status.in_(("sent", "failed")), Push.text != ERASED)
        .values(text=ERASED).execution_options(**quiet)
    )
    attachments = count_changed_rows(session,
        update(FarmerAttachment).where(FarmerAttachment.created_at < cutoff, FarmerAttachment.telegram_file_id != "")
        .values(telegram_file_id="", file_name=None, caption=None).execution_options(**quiet)
    )
    farmers = count_changed_rows(session,
        update(Farmer).where(Farmer.updated_at < cutoff, Farmer.display_name.isnot(None))
        .values(display_name=None, updated_by=ACTOR).execution_options(**quiet)
    )
    feedback = count_changed_rows(session,
        update(Feedback).where(Feedback.created_at < cutoff, Feedback.comment.isnot(None))
        .values(comment=None).execution_options(**quiet)
    )
    return {"tickets": len(tickets), "pushes": pushes, "attachments": attachments, "farmers": farmers,
            "feedback": feedback}


def run_retention(store: KnowledgeStore, tracker: TrackerWriter, days: int, now: Optional[dt.datetime] = None,
                  actor: str = ACTOR) -> RetentionReport:
    """Anonymise everything personal older than `days` days, in the tracker store and the knowledge DB; audited.

    Blocking. Safe to repeat and to interrupt: nothing already anonymised changes again.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=days)

    def start(session: Session) -> Optional[dt.datetime]:
        return scheduled_run(session, RETENTION_RUN).done_until

    done_until = store.run_blocking(start)
    since = _epoch(done_until - OVERLAP) if done_until is not None else None
    report = RetentionReport(older_than=cutoff, events=tracker.anonymise_between(since, _epoch(cutoff)))

    def finish(session: Session) -> None:
        for name, count in anonymise_knowledge_before(session, cutoff).items():
            setattr(report, name, count)
        run = scheduled_run(session, RETENTION_RUN)
        run.finished_at = utcnow()
        if run.done_until is None or run.done_until < cutoff:
            run.done_until = cutoff
        record_change(session, actor, "anonymise", "personal_data", None, None,
                      {"older_than": cutoff.isoformat(timespec="seconds"), **report.counts()})

    store.run_blocking(finish)
    logger.info("Personal data older than %d days anonymised: %s", days, report.counts())
    return report


def run_due_retention(store: KnowledgeStore, tracker: TrackerWriter, days: int, now: dt.datetime,
                      timezone: dt.tzinfo, worker: str) -> Optional[RetentionReport]:
    """Run retention when today's run is due and no other process has claimed it; None when there was nothing to do."""
    due = last_due_time(now, timezone)
    if not store.run_blocking(lambda session: claim_run(session, RETENTION_RUN, due, worker, now)):
        return None
    return run_retention(store, tracker, days, now)
