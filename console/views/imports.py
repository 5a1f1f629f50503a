"""CSV and Excel upload of prices and articles: a preview that lists every bad row first, then an
all-or-nothing import through the same functions as `python -m knowledge import-prices`."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Set, Tuple

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from console.context import ConsoleContext, console_context
from console.permissions import region_scope
from console.security import CurrentUser, current_user, flash, require
from console.uploads import UploadError, discard, stage, staged_path, suffix_of
from knowledge.db import Session, dry_run_scope, session_scope
from knowledge.files.articles import check_article_file, import_articles
from knowledge.files.prices import PRICE_ANY_OF, PRICE_HEADERS, PRICE_REQUIRED, check_price_rows, import_prices
from knowledge.files.tables import ImportFileError, ImportReport, RowProblem, read_table
from knowledge.models import Region, Role
from knowledge.prices.batches import BatchOrigin
from knowledge.prices.plausibility import find_outliers
from settings import load_settings

logger = logging.getLogger(__name__)
KINDS = {"prices": "价格", "articles": "政策/保险文章"}
PREVIEW_ROWS = 20


@dataclass
class Preview:
    """What an uploaded file would import: row count, sample rows and every problem."""

    rows: int = 0
    problems: List[RowProblem] = field(default_factory=list)
    sample: List[List[Any]] = field(default_factory=list)
    columns: List[str] = field(default_factory=list)
    # Valid rows whose price looks implausible: imported only when the officer confirms them explicitly.
    outliers: List[RowProblem] = field(default_factory=list)


def _outside(scope: Optional[Set[int]], region: Optional[Region]) -> bool:
    # None scope: an admin.
    return scope is not None and (region is None or region.id not in scope)


def preview_file(db: Session, user: CurrentUser, kind: str, path: Path, today) -> Preview:
    """Check every row of the file with the import's rules (and the officer's region); writes nothing."""
    scope = region_scope(db, user)
    preview = Preview()
    if kind == "prices":
        table, problems = read_table(path, PRICE_HEADERS, PRICE_REQUIRED, PRICE_ANY_OF)
        if table is None:
            return Preview(problems=problems)
        good, problems = check_price_rows(db, table, today)
        preview.rows = len(table.rows)
        preview.columns = ["行", "品名", "市场", "日期", "单位", "最低", "平均", "最高", "来源"]
        for line, price in good:
            # A market named for the first time is not saved yet, but its region is.
            if _outside(scope, price.market.region):
                problems.append(RowProblem(line, [f"市场“{price.market.name}”不在您负责的“{user.region_name}”范围内"]))
            elif len(preview.sample) < PREVIEW_ROWS:
                preview.sample.append([line, price.product.name, price.market.name, price.report_date.isoformat(),
                                       price.unit, price.min_price, price.avg_price, price.max_price, price.source])
        if not problems:
            factor = load_settings().price_outlier_factor
            preview.outliers = [RowProblem(line, [outlier.reason]) for line, outlier in find_outliers(db, good, factor)]
    else:
        checked = check_article_file(db, path, today, scope)  # the officer's region is checked there
        problems = checked.problems
        preview.rows = checked.rows
        preview.columns = ["分类", "主题", "标题", "地区", "来源", "状态"]
        for article in checked.good.values():
            if len(preview.sample) < PREVIEW_ROWS:
                preview.sample.append([article.category, article.topic, article.title,
                                       article.region.name if article.region else "全国", article.source,
                                       article.status])
    preview.problems = sorted(problems, key=lambda problem: problem.line)
    return preview


def _checked_preview(context: ConsoleContext, user: CurrentUser, kind: str, path: Path) -> Preview:
    # A preview never writes: markets it would create stay unsaved.
    with dry_run_scope(context.sessions) as db:
        try:
            return preview_file(db, user, kind, path, context.today())
        except ImportFileError as error:
            return Preview(problems=[RowProblem(0, [str(error)])])


def _import_file(
    context: ConsoleContext, user: CurrentUser, kind: str, path: Path, name: str, accept_outliers: bool = False
) -> Tuple[Preview, Optional[ImportReport]]:
    """Check again (the knowledge base may have changed since the preview), then import in one transaction.

    Implausible prices are written only with `accept_outliers` (the officer ticked the confirmation), and audited.
    """
    with session_scope(context.sessions) as db:
        preview = preview_file(db, user, kind, path, context.today())
        report: Optional[ImportReport] = None
        if not preview.problems and kind == "prices":
            report = import_prices(db, path, user.username, today=context.today(),
                                   origin=BatchOrigin("console", name), accept_outliers=accept_outliers)
        elif not preview.problems:
            report = import_articles(db, path, user.username, today=context.today(), scope=region_scope(db, user))
        if report is None or not report.ok:
            db.rollback()  # all or nothing: a file with any bad row writes none
        return preview, report


@require(Role.ADMIN, Role.OFFICER)
async def import_page(request: web.Request) -> web.Response:
    """The upload form."""
    return aiohttp_jinja2.render_template("import.html", request, {"kinds": KINDS, "error": ""})


@require(Role.ADMIN, Role.OFFICER)
async def import_preview(request: web.Request) -> web.Response:
    """Stage the uploaded file and show what it would import, bad rows first; nothing is written."""
    user = current_user(request)
    context = console_context(request)
    form = await request.post()
    kind = str(form.get("kind", ""))
    upload = form.get("file")
    if kind not in KINDS:
        return aiohttp_jinja2.render_template("import.html", request, {"kinds": KINDS, "error": "请选择导入的内容"},
                                              status=400)
    try:
        if not isinstance(upload, web.FileField):
            raise UploadError("请选择要上传的文件")
        suffix = suffix_of(upload.filename)
        if kind == "prices" and suffix in (".yml", ".yaml"):
            raise UploadError("价格只能用 CSV 或 .xlsx 导入")
        token = stage(context.upload_dir, upload.file.read(), suffix)
    except UploadError as error:
        return aiohttp_jinja2.render_template("import.html", request, {"kinds": KINDS, "error": str(error)},
                                              status=400)
    path = context.upload_dir / f"{token}{suffix}"
    # Checking a file of many thousand rows takes seconds: off the event loop.
    preview = await asyncio.get_running_loop().run_in_executor(None, _checked_preview, context, user, kind, path)
    session = await get_session(request)
    if preview.problems:
        discard(context.upload_dir, token, suffix)
        session.pop("upload", None)
    else:
        session["upload"] = {"token": token, "suffix": suffix, "kind": kind, "name": upload.filename}
    logger.info("Import preview by %s: %s, %d rows, %d with problems", user.username, kind, preview.rows,
                len(preview.problems))
    return aiohttp_jinja2.render_template("import_preview.html", request, {
        "preview": preview, "kind": kind, "kinds": KINDS, "name": upload.filename, "token": token,
    }, status=200 if not preview.problems else 422)


@require(Role.ADMIN, Role.OFFICER)
async def import_confirm(request: web.Request) -> web.Response:
    """Import the previewed file all or nothing; checks every row (and the region) again first."""
    user = current_user(request)
    context = console_context(request)
    form = await request.post()
    session = await get_session(request)
    staged = session.get("upload") or {}
    if not staged or form.get("token") != staged.get("token"):
        await flash(request, "没有待确认的导入（可能已经导入或已取消），请重新上传")
        raise web.HTTPFound("/imports")
    path = staged_path(context.upload_dir, staged["token"], staged["suffix"])
    if path is None:
        session.pop("upload", None)
        await flash(request, "上传的文件已过期，请重新上传")
        raise web.HTTPFound("/imports")
    accepted = form.get("accept_outliers") == "yes"
    keep = False
    try:
        preview, report = await asyncio.get_running_loop().run_in_executor(
            None, _import_file, context, user, staged["kind"], path, staged["name"], accepted)
        # Only implausible prices stopped it: the same file waits for the explicit confirmation.
        keep = report is not None and not report.problems and bool(report.held) and not preview.problems
    except ImportFileError as error:
        await flash(request, f"导入失败：{error}。没有写入任何数据。")
        raise web.HTTPFound("/imports") from error
    finally:
        if not keep:
            discard(context.upload_dir, staged["token"], staged["suffix"])
            session.pop("upload", None)
    if keep:
        assert report is not None
        preview.outliers = report.held
        return aiohttp_jinja2.render_template("import_preview.html", request, {
            "preview": preview, "kind": staged["kind"], "kinds": KINDS, "name": staged["name"],
            "token": staged["token"], "outlier_error": "这些价格需要您勾选确认后才能导入",
        }, status=422)
    if report is None or not report.ok:
        # No report means the second check found problems, so its problems are never needed then.
        problems = preview.problems or (report.problems if report is not None else [])
        return aiohttp_jinja2.render_template("import_preview.html", request, {
            "preview": Preview(rows=preview.rows, problems=problems),
            "kind": staged["kind"], "kinds": KINDS, "name": staged["name"], "token": "",
        }, status=422)
    extra = f"，新建市场 {len(report.new_markets)} 个" if report.new_markets else ""
    counts = f"共 {report.rows} 行，新增 {report.created}，更新 {report.updated}{extra}"
    if accepted and preview.outliers:
        counts += f"，其中 {len(preview.outliers)} 行价格经您确认后导入（已记入操作日志）"
    await flash(request, f"导入成功：{staged['name']} {counts}")
    raise web.HTTPFound("/prices" if staged["kind"] == "prices" else "/articles")


@require(Role.ADMIN, Role.OFFICER)
async def import_cancel(request: web.Request) -> web.Response:
    """Drop the previewed file without importing it."""
    context = console_context(request)
    session = await get_session(request)
    staged = session.pop("upload", None)
    if staged:
        discard(context.upload_dir, staged["token"], staged["suffix"])
    await flash(request, "已取消导入，没有写入任何数据")
    raise web.HTTPFound("/imports")

