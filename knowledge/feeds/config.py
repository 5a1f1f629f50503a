"""Admins' feed settings: checking what the console's form gives, saving it audited, and listing feeds and runs."""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change, snapshot
from knowledge.feeds.fetching import FeedPolicy, folder_problem, url_problem
from knowledge.feeds.schedule import Schedule, parse_schedule
from knowledge.fields import clean_text
from knowledge.files.prices import PRICE_HEADERS
from knowledge.models import PriceFeed, PriceFeedRun, Region, utcnow

FEED_COLUMNS = ("name", "source_kind", "source", "column_map", "schedule", "region_id", "active")
_NAME = re.compile(r"^[\w\u4e00-\u9fff\-·（）() ]{1,48}$")


@dataclass
class FeedSettings:
    """A feed as the admin entered it, checked: what to save, or every problem (plain Chinese)."""

    name: str = ""
    source_kind: str = ""
    source: str = ""
    column_map: Dict[str, str] = field(default_factory=dict)
    schedule: Optional[Schedule] = None
    region_id: Optional[int] = None
    active: bool = True
    problems: List[str] = field(default_factory=list)


def parse_column_map(text: str) -> Tuple[Dict[str, str], List[str]]:
    """Lines "品名=产品名称" (our column, then the feed's header) into {field: header}; with every problem."""
    names = {name: field_name for field_name, names in PRICE_HEADERS.items() for name in names}
    mapping: Dict[str, str] = {}
    problems: List[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        ours, sep, theirs = line.replace("＝", "=").partition("=")
        field_name = names.get(ours.strip()) or names.get(ours.strip().lower())
        theirs = clean_text(theirs)
        if not sep or field_name is None:
            problems.append(f"列对应第{number}行：要写成“品名=对方的列名”，左边是导入表头（品名、市场、平均价……）")
        elif not theirs or len(theirs) > 100:
            problems.append(f"列对应第{number}行：对方的列名不能为空，也不能超过 100 字")
        elif field_name in mapping:
            problems.append(f"列对应第{number}行：“{ours.strip()}”写了两次")
        else:
            mapping[field_name] = theirs
    return mapping, problems


def column_map_text(stored: str) -> str:
    """A stored mapping as the lines the form shows ("品名=产品名称")."""
    mapping = json.loads(stored) if stored else {}
    return "\n".join(f"{PRICE_HEADERS[name][0]}={header}" for name, header in mapping.items())


def feed_headers(stored: str) -> Optional[Dict[str, Tuple[str, ...]]]:
    """The import's headers with the feed's mapped columns in place of ours; None when there is no mapping."""
    mapping = json.loads(stored) if stored else {}
    if not mapping:
        return None
    headers = dict(PRICE_HEADERS)
    for name, header in mapping.items():
        headers[name] = (header,)
    return headers


def check_feed_form(session: Session, form: Dict[str, str], policy: FeedPolicy,
                    feed_id: Optional[int] = None) -> FeedSettings:
    """Check the console form's fields; every problem is collected."""
    checked = FeedSettings()
    checked.name = clean_text(form.get("name"))
    if not _NAME.match(checked.name):
        checked.problems.append("名称要写 1–48 个字（汉字、字母、数字、横线）")
    elif session.scalar(select(PriceFeed.id).where(PriceFeed.name == checked.name, PriceFeed.id != (feed_id or 0))):
        checked.problems.append(f"已经有叫“{checked.name}”的价格源")
    checked.source = clean_text(form.get("source"))
    checked.source_kind = "url" if checked.source.lower().startswith(("http://", "https://")) else "folder"
    if checked.source_kind == "url":
        problem = url_problem(checked.source, policy)
        if problem is not None:
            checked.problems.append(problem.chinese)
    else:
        folder = folder_problem(checked.source, policy)
        if folder:
            checked.problems.append(folder)
    if len(checked.source) > 512:
        checked.problems.append("来源地址太长")
    checked.schedule, schedule_problem = parse_schedule(form.get("schedule", ""))
    if schedule_problem:
        checked.problems.append(schedule_problem)
    region_text = str(form.get("region_id", ""))
    region = session.get(Region, int(region_text)) if region_text.isdigit() else None
    if region is None:
        checked.problems.append("请选择价格源的地区：文件里的市场都必须在这个地区之内")
    else:
        checked.region_id = region.id
    checked.column_map, map_problems = parse_column_map(form.get("column_map", ""))
    checked.problems.extend(map_problems)
    checked.active = str(form.get("active", "")).lower() in ("1", "on", "true", "yes")
    return checked


def _values(checked: FeedSettings) -> Dict[str, Any]:
    return {"name": checked.name, "source_kind": checked.source_kind, "source": checked.source,
            "column_map": json.dumps(checked.column_map, ensure_ascii=False) if checked.column_map else "",
            "schedule": str(checked.schedule), "region_id": checked.region_id, "active": checked.active}


def create_feed(session: Session, checked: FeedSettings, actor: str, now: Optional[dt.datetime] = None) -> PriceFeed:
    """Save a checked new feed, due at once; audited."""
    feed = PriceFeed(**_values(checked), next_run_at=now or utcnow(), updated_by=actor)
    session.add(feed)
    session.flush()
    record_change(session, actor, "create", "price_feed", feed.id, None, snapshot(feed, FEED_COLUMNS))
    return feed


def update_feed(session: Session, feed: PriceFeed, checked: FeedSettings, actor: str,
                now: Optional[dt.datetime] = None) -> PriceFeed:
    """Save a checked change of a feed, due at once (so the admin sees at once whether it works); audited."""
    before = snapshot(feed, FEED_COLUMNS)
    for name, value in _values(checked).items():
        setattr(feed, name, value)
    feed.next_run_at = now or utcnow()
    feed.updated_by = actor
    session.flush()
    record_change(session, actor, "update", "price_feed", feed.id, before, snapshot(feed, FEED_COLUMNS))
    return feed


def run_feed_now(session: Session, feed: PriceFeed, actor: str, now: Optional[dt.datetime] = None) -> None:
    """Make the feed due now: the next scheduler round fetches it; audited."""
    feed.next_run_at = now or utcnow()
    record_change(session, actor, "run", "price_feed", feed.id, None, {"name": feed.name})


def list_feeds(session: Session) -> List[PriceFeed]:
    """Every feed, by name."""
    return list(session.scalars(select(PriceFeed).order_by(PriceFeed.name)))


def recent_runs(session: Session, feed_id: int, limit: int = 20) -> List[PriceFeedRun]:
    """The feed's latest runs, newest first."""
    return list(session.scalars(select(PriceFeedRun).where(PriceFeedRun.feed_id == feed_id)
                                .order_by(PriceFeedRun.started_at.desc(), PriceFeedRun.id.desc()).limit(limit)))


def run_reasons(run: PriceFeedRun) -> List[str]:
    """A run's reasons, in plain Chinese."""
    return list(json.loads(run.reasons or "[]"))
