"""Running due feeds: claim each due feed once however many processes try, fetch its file, import it all or
nothing with the feed as author, and record the run (outcome and reasons) for the console and the log.

The lease is the feed's own `next_run_at`: a process runs a feed only after its
`UPDATE price_feed SET next_run_at = :next WHERE id = :id AND next_run_at = :seen` changed the row, so of
several gateways that saw the same due time exactly one runs it. Each claim is its own short transaction
that starts with that UPDATE (on SQLite a write that first read would fail instead of waiting).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Set, Tuple

from sqlalchemy import delete, select, update

from knowledge.catalog.regions import region_ids_below
from knowledge.db import KnowledgeStore, Session, count_changed_rows
from knowledge.feeds.config import feed_headers
from knowledge.feeds.fetching import FeedFetchError, FeedPolicy, FetchedFile, fetch_url, folder_files, read_folder_file
from knowledge.feeds.schedule import next_run, parse_schedule
from knowledge.files.prices import import_prices
from knowledge.files.tables import ImportFileError
from knowledge.models import PriceFeed, PriceFeedRun, Region, utcnow
from knowledge.prices.batches import BatchOrigin

logger = logging.getLogger(__name__)

# Runs kept per feed (the console shows the latest 20).
KEEP_RUNS = 500


@dataclass(frozen=True)
class FeedJob:
    """A claimed feed, as the run needs it (no ORM row crosses threads)."""

    id: int
    name: str
    source_kind: str
    source: str
    column_map: str
    region_id: int

    @property
    def actor(self) -> str:
        """The author of what the feed writes, in prices and in the audit log."""
        return f"feed:{self.name}"[:64]


@dataclass
class FeedRunReport:
    """One run's outcome: ok (a batch landed), unchanged (nothing new to fetch) or failed, with the reasons."""

    feed_id: int
    feed_name: str
    outcome: str
    file_name: Optional[str] = None
    rows: int = 0
    batch_id: Optional[int] = None
    reasons: List[str] = field(default_factory=list)
    english: List[str] = field(default_factory=list)


def due_feeds(session: Session, now: dt.datetime) -> List[Tuple[int, dt.datetime]]:
    """(feed id, due time as read) of every active feed due at `now`."""
    return [(row.id, row.next_run_at) for row in session.execute(
        select(PriceFeed.id, PriceFeed.next_run_at)
        .where(PriceFeed.active.is_(True), PriceFeed.next_run_at <= now).order_by(PriceFeed.next_run_at))]


def claim_feed(session: Session, feed_id: int, seen: dt.datetime, now: dt.datetime, timezone: dt.tzinfo,
               worker: str) -> Optional[FeedJob]:
    """The feed to run when this worker won its due time `seen` (and moved it to the next one), else None.

    Commit at once: the claim is its own transaction, and the UPDATE comes first in it, so the rest is read
    under the row's write lock (on SQLite a transaction that reads first cannot wait for the lock).
    """
    won = count_changed_rows(session, update(PriceFeed)
                             .where(PriceFeed.id == feed_id, PriceFeed.next_run_at == seen)
                             .values(claimed_by=worker[:64], claimed_at=now)
                             .execution_options(synchronize_session=False))
    if won != 1:
        return None
    feed = session.get(PriceFeed, feed_id)
    assert feed is not None
    schedule, _ = parse_schedule(feed.schedule)
    # A schedule broken by hand in the database still moves on, a day later, rather than running every round.
    feed.next_run_at = next_run(schedule, now, timezone) if schedule else now + dt.timedelta(days=1)
    return FeedJob(feed.id, feed.name, feed.source_kind, feed.source, feed.column_map, feed.region_id)


def _finish(session: Session, job: FeedJob, report: FeedRunReport, sha256: Optional[str], started: dt.datetime,
            now: dt.datetime) -> None:
    if report.outcome != "unchanged":
        session.add(PriceFeedRun(feed_id=job.id, started_at=started, finished_at=now, outcome=report.outcome,
                                 file_name=(report.file_name or "")[:256] or None, sha256=sha256, rows=report.rows,
                                 reasons=json.dumps(report.reasons, ensure_ascii=False), batch_id=report.batch_id))
        session.flush()
        # A source failing every five minutes must not fill the table: fetch failures (no file) beyond the newest
        # KEEP_RUNS go. Runs with a file stay, since they say which files a folder feed has imported already.
        failures = select(PriceFeedRun.id).where(PriceFeedRun.feed_id == job.id, PriceFeedRun.sha256.is_(None))
        oldest_kept = session.scalar(failures.order_by(PriceFeedRun.id.desc()).offset(KEEP_RUNS - 1).limit(1))
        if oldest_kept is not None:
            old = failures.where(PriceFeedRun.id < oldest_kept)
            session.execute(delete(PriceFeedRun).where(PriceFeedRun.id.in_(old))
                            .execution_options(synchronize_session=False))
    session.execute(update(PriceFeed).where(PriceFeed.id == job.id)
                    .values(last_run_at=now, last_outcome=report.outcome)
                    .execution_options(synchronize_session=False))


def _log(report: FeedRunReport) -> None:
    if report.outcome == "failed":
        logger.warning("Price feed %r (id %d) failed%s, nothing imported: %s", report.feed_name, report.feed_id,
                       f" on {report.file_name}" if report.file_name else "", "; ".join(report.english))
    elif report.outcome == "ok":
        logger.info("Price feed %r (id %d) imported %s: %d rows (batch %s)", report.feed_name, report.feed_id,
                    report.file_name, report.rows, report.batch_id)


def _scope(session: Session, job: FeedJob) -> Tuple[Set[int], str]:
    region = session.get(Region, job.region_id)
    return region_ids_below(session, job.region_id), region.name if region is not None else "?"


def land_file(store: KnowledgeStore, job: FeedJob, fetched: FetchedFile, today: dt.date,
              started: dt.datetime) -> FeedRunReport:
    """Import one fetched file all or nothing with the feed as author, and record the run."""
    report = FeedRunReport(job.id, job.name, "failed", fetched.name)
    with tempfile.TemporaryDirectory(prefix="xiangxin-feed-") as folder:
        path = Path(folder) / f"feed{Path(fetched.name).suffix.lower() or '.csv'}"
        path.write_bytes(fetched.data)
        with store.session() as session:
            try:
                imported = import_prices(session, path, job.actor, today=today,
                                         origin=BatchOrigin("feed", fetched.name, job.id),
                                         headers=feed_headers(job.column_map), region_scope=_scope(session, job))
            except ImportFileError as error:
                imported = None
                report.reasons, report.english = [str(error)], [f"file unreadable: {error}"]
            if imported is not None:
                report.rows = imported.rows
                if imported.ok:
                    report.outcome, report.batch_id = "ok", imported.batch_id
                    # In the import's own transaction: a file that landed is never imported again.
                    _finish(session, job, report, fetched.sha256, started, utcnow())
                else:
                    # Refused rows, or implausible prices (held: a feed never accepts them, an officer
                    # imports such a file by hand after checking it).
                    refused = imported.problems or imported.held
                    what = "rows refused" if imported.problems else "rows held as implausible prices"
                    report.reasons = [str(problem) for problem in refused]
                    report.english = [f"{len(refused)} of {imported.rows} {what}"] + [
                        f"line {problem.line}: {'; '.join(problem.reasons)}" for problem in refused]
            if report.outcome != "ok":
                session.rollback()  # all or nothing: not one row of a refused file
    if report.outcome != "ok":
        with store.session() as session:
            _finish(session, job, report, fetched.sha256, started, utcnow())
    _log(report)
    return report


def _fetch_failed(store: KnowledgeStore, job: FeedJob, error: FeedFetchError, started: dt.datetime) -> FeedRunReport:
    report = FeedRunReport(job.id, job.name, "failed", reasons=[error.chinese], english=[error.english])
    with store.session() as session:
        _finish(session, job, report, None, started, utcnow())
    _log(report)
    return report


def _seen_files(session: Session, feed_id: int) -> Set[Tuple[Optional[str], Optional[str]]]:
    return {(row.file_name, row.sha256) for row in session.execute(
        select(PriceFeedRun.file_name, PriceFeedRun.sha256).where(PriceFeedRun.feed_id == feed_id))}


def _last_sha(session: Session, feed_id: int) -> Optional[str]:
    return session.scalar(select(PriceFeedRun.sha256).where(PriceFeedRun.feed_id == feed_id)
                          .order_by(PriceFeedRun.started_at.desc(), PriceFeedRun.id.desc()).limit(1))


def _unchanged(store: KnowledgeStore, job: FeedJob, started: dt.datetime) -> FeedRunReport:
    report = FeedRunReport(job.id, job.name, "unchanged")
    with store.session() as session:
        _finish(session, job, report, None, started, utcnow())
    return report


async def run_feed(store: KnowledgeStore, policy: FeedPolicy, job: FeedJob, today: dt.date) -> List[FeedRunReport]:
    """Fetch and import a claimed feed: a URL's answer when it changed, each new file of a folder, in name order."""
    started = utcnow()
    try:
        if job.source_kind == "url":
            fetched = await fetch_url(job.source, policy)
            if fetched.sha256 == await store.run(lambda session: _last_sha(session, job.id)):
                return [await asyncio.to_thread(_unchanged, store, job, started)]
            return [await asyncio.to_thread(land_file, store, job, fetched, today, started)]
        files = await asyncio.to_thread(folder_files, job.source, policy)
        seen = await store.run(lambda session: _seen_files(session, job.id))
        reports = []
        for path in files:
            fetched = await asyncio.to_thread(read_folder_file, path, policy)
            if (fetched.name, fetched.sha256) not in seen:  # a file fixed and saved again is a new file
                reports.append(await asyncio.to_thread(land_file, store, job, fetched, today, utcnow()))
        return reports or [await asyncio.to_thread(_unchanged, store, job, started)]
    except FeedFetchError as error:
        return [await asyncio.to_thread(_fetch_failed, store, job, error, started)]


def _claim_one(session: Session, *, feed_id: int, seen: dt.datetime, now: dt.datetime, timezone: dt.tzinfo,
               worker: str) -> Optional[FeedJob]:
    return claim_feed(session, feed_id, seen, now, timezone, worker)


async def run_due_feeds(store: KnowledgeStore, policy: FeedPolicy, timezone: dt.tzinfo, worker: str,
                        now: Optional[dt.datetime] = None) -> List[FeedRunReport]:
    """Run every feed due now that this worker wins; the reports of its runs."""
    now = now or utcnow()
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(timezone).date()
    reports: List[FeedRunReport] = []
    for feed_id, seen in await store.run(lambda session: due_feeds(session, now)):
        job = await store.run(functools.partial(_claim_one, feed_id=feed_id, seen=seen, now=now, timezone=timezone,
                                                worker=worker))
        if job is None:
            continue  # another process won this due time
        try:
            reports.extend(await run_feed(store, policy, job, today))
        except Exception:  # one broken feed must not stop the others
            logger.exception("Price feed %r (id %d) crashed; it runs again at its next due time", job.name, job.id)
    return reports
