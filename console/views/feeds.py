"""Price feeds (admins): set up a feed, see its last runs with every reason a file was refused, run it now; and
imported batches (feeds, files, uploads): undo one as a whole, with a confirmation, audited."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

import aiohttp_jinja2
from aiohttp import web

from console.context import ConsoleContext, console_context, page_number
from console.security import CurrentUser, Forbidden, current_user, flash, require
from console.views.forms import region_choices
from knowledge.db import Session, session_scope
from knowledge.feeds.config import (
    check_feed_form,
    column_map_text,
    create_feed,
    list_feeds,
    recent_runs,
    run_feed_now,
    run_reasons,
    update_feed,
)
from knowledge.feeds.schedule import parse_schedule
from knowledge.models import ImportBatch, PriceFeed, Role
from knowledge.prices.batches import UndoReport, batch_page, undo_batch

logger = logging.getLogger(__name__)
PAGE_SIZE = 30
OUTCOMES = {"ok": "成功导入", "unchanged": "没有新文件", "failed": "失败，未导入任何数据"}
BATCH_KINDS = {"console": "管理台上传", "file": "命令行导入", "feed": "价格源"}


def _schedule_text(stored: str) -> str:
    schedule, _ = parse_schedule(stored)
    return schedule.describe() if schedule else stored


def _form_values(feed: Optional[PriceFeed]) -> Dict[str, Any]:
    if feed is None:
        return {"active": True, "schedule": "60"}
    schedule, _ = parse_schedule(feed.schedule)
    typed = "" if schedule is None else (str(schedule.minutes) if schedule.minutes is not None
                                         else schedule.at.strftime("%H:%M") if schedule.at else "")
    return {"name": feed.name, "source": feed.source, "schedule": typed, "region_id": feed.region_id,
            "column_map": column_map_text(feed.column_map), "active": feed.active}


def _list_page(request: web.Request, db: Session, values: Dict[str, Any], problems: list,
               status: int = 200) -> web.Response:
    feeds = list_feeds(db)
    return aiohttp_jinja2.render_template("feeds.html", request, {
        "feeds": feeds, "regions": region_choices(db), "values": values, "problems": problems,
        "outcomes": OUTCOMES, "schedule_text": _schedule_text,
        "allowed_urls": console_context(request).feed_policy.allowed_urls,
        "root": console_context(request).feed_policy.root,
    }, status=status)


@require(Role.ADMIN)
async def feed_list(request: web.Request) -> web.Response:
    """Every feed with its last outcome, and the form for a new one."""
    with session_scope(console_context(request).sessions) as db:
        return _list_page(request, db, _form_values(None), [])


def _form(post) -> Dict[str, str]:
    return {name: str(post.get(name, "")) for name in ("name", "source", "schedule", "region_id", "column_map",
                                                         "active")}


@require(Role.ADMIN)
async def feed_create(request: web.Request) -> web.Response:
    """Create a feed, checked like every form; due at once."""
    context = console_context(request)
    user = current_user(request)
    form = _form(await request.post())
    with session_scope(context.sessions) as db:
        checked = check_feed_form(db, form, context.feed_policy)
        if checked.problems:
            return _list_page(request, db, {**form, "active": bool(form["active"])}, checked.problems, status=400)
        feed = create_feed(db, checked, user.username)
        feed_id, name = feed.id, feed.name
    logger.info("Price feed %d created by %s", feed_id, user.username)
    await flash(request, f"已添加价格源“{name}”，一分钟内会第一次获取")
    raise web.HTTPFound(f"/feeds/{feed_id}")


def _feed_or_404(db: Session, feed_id: int) -> PriceFeed:
    feed = db.get(PriceFeed, feed_id)
    if feed is None:
        raise web.HTTPNotFound(text="没有这个价格源。")
    return feed


def _feed_page(request: web.Request, db: Session, feed: PriceFeed, values: Dict[str, Any], problems: list,
               status: int = 200) -> web.Response:
    runs = [(run, run_reasons(run)) for run in recent_runs(db, feed.id)]
    batches = batch_page(db, 1, PAGE_SIZE, feed_id=feed.id)
    return aiohttp_jinja2.render_template("feed.html", request, {
        "feed": feed, "runs": runs, "batches": batches.rows, "regions": region_choices(db), "values": values,
        "problems": problems, "outcomes": OUTCOMES, "schedule_text": _schedule_text(feed.schedule),
        "last": runs[0] if runs else None,
    }, status=status)


@require(Role.ADMIN)
async def feed_page(request: web.Request) -> web.Response:
    """One feed: its settings, last run and outcome with the reasons, its runs and its batches."""
    with session_scope(console_context(request).sessions) as db:
        feed = _feed_or_404(db, int(request.match_info["feed_id"]))
        return _feed_page(request, db, feed, _form_values(feed), [])


@require(Role.ADMIN)
async def feed_update(request: web.Request) -> web.Response:
    """Change a feed's settings; due at once, so the admin sees at once whether it works."""
    context = console_context(request)
    user = current_user(request)
    form = _form(await request.post())
    with session_scope(context.sessions) as db:
        feed = _feed_or_404(db, int(request.match_info["feed_id"]))
        checked = check_feed_form(db, form, context.feed_policy, feed_id=feed.id)
        if checked.problems:
            return _feed_page(request, db, feed, {**form, "active": bool(form["active"])}, checked.problems,
                              status=400)
        update_feed(db, feed, checked, user.username)
        feed_id = feed.id
    await flash(request, "已保存，一分钟内会按新的设置获取")
    raise web.HTTPFound(f"/feeds/{feed_id}")


@require(Role.ADMIN)
async def feed_run_now(request: web.Request) -> web.Response:
    """Make the feed due now: the gateway fetches it within a minute."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        feed = _feed_or_404(db, int(request.match_info["feed_id"]))
        run_feed_now(db, feed, user.username)
        feed_id = feed.id
    await flash(request, "已安排立即获取，一分钟内刷新本页查看结果")
    raise web.HTTPFound(f"/feeds/{feed_id}")


def _own_batches_only(user: CurrentUser) -> Optional[str]:
    # An officer undoes only their own uploads; admins every batch (feeds' included).
    return None if user.role == Role.ADMIN else user.username


@require(Role.ADMIN, Role.OFFICER)
async def batch_list(request: web.Request) -> web.Response:
    """Imported price batches, newest first, each with its undo button (an officer sees their own)."""
    user = current_user(request)
    page = page_number(request.query)
    with session_scope(console_context(request).sessions) as db:
        batches = batch_page(db, page, PAGE_SIZE, author=_own_batches_only(user))
        return aiohttp_jinja2.render_template("import_batches.html", request, {
            "batches": batches.rows, "total": batches.total, "page": page, "pages": batches.pages,
            "query": request.query, "kinds": BATCH_KINDS,
        })


def _undo(context: ConsoleContext, user: CurrentUser, batch_id: int) -> UndoReport:
    with session_scope(context.sessions) as db:
        batch = db.get(ImportBatch, batch_id)
        if batch is None:
            raise web.HTTPNotFound(text="没有这个导入批次。")
        owner = _own_batches_only(user)
        if owner is not None and batch.author != owner:
            raise Forbidden("这个批次不是您导入的，只能由管理员撤销。")
        report = undo_batch(db, batch_id, user.username)
        if not report.ok:
            db.rollback()  # all or nothing: a refused undo changes nothing
        return report


@require(Role.ADMIN, Role.OFFICER)
async def batch_undo(request: web.Request) -> web.Response:
    """Undo a batch as a whole (the page asked to confirm): remove what it created, restore what it replaced."""
    user = current_user(request)
    batch_id = int(request.match_info["batch_id"])
    back = str((await request.post()).get("back", "")) or "/imports/batches"
    report = await asyncio.to_thread(_undo, console_context(request), user, batch_id)
    if not back.startswith("/") or back.startswith("//"):
        back = "/imports/batches"  # never a redirect off the console
    if report.ok:
        await flash(request, f"已撤销导入批次 #{batch_id}：删除新增的 {report.removed} 条，"
                             f"恢复被覆盖的 {report.restored} 条")
    else:
        shown = "；".join(report.problems[:10]) + ("……" if len(report.problems) > 10 else "")
        await flash(request, f"没有撤销批次 #{batch_id}，什么都没有改：{shown}")
    raise web.HTTPFound(back)
