"""Policy and insurance articles: list and search; add, edit and delete with the import's validation."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context, page_number
from console.permissions import check_edit_region, region_scope
from console.security import current_user, flash, require
from knowledge.articles.entry import (
    ArticleConflictError,
    ArticleInput,
    check_article,
    delete_article,
    save_article,
    update_article,
)
from knowledge.articles.listing import article_by_id, article_page, article_titled
from knowledge.db import Session, session_scope
from knowledge.models import Article, Role

PAGE_SIZE = 50
FIELDS = ("category", "topic", "title", "questions", "answer", "region", "doc_number", "source", "published_on",
          "effective_on", "confidence", "status", "review_on")
CATEGORY_LABELS = {"policy": "农业政策", "pension": "养老保险", "medical": "医保", "other": "其他"}
STATUS_LABELS = {"published": "已发布", "draft": "草稿"}


@require()
async def article_list(request: web.Request) -> web.Response:
    """Articles with search by words in the title, topic or question forms, and filters."""
    user = current_user(request)
    page = page_number(request.query)
    query = request.query
    with session_scope(console_context(request).sessions) as db:
        found = article_page(
            db, words=query.get("q", ""),
            category=query["category"] if query.get("category") in CATEGORY_LABELS else None,
            status=query["status"] if query.get("status") in STATUS_LABELS else None, number=page, size=PAGE_SIZE,
        )
        scope = region_scope(db, user)
        editable = {article.id for article in found.rows if user.role == Role.ADMIN or (
            user.role == Role.OFFICER and article.region_id is not None and scope is not None
            and article.region_id in scope)}
    return aiohttp_jinja2.render_template("articles.html", request, {
        "articles": found.rows, "total": found.total, "page": page, "pages": found.pages,
        "query": query, "editable": editable, "categories": CATEGORY_LABELS, "statuses": STATUS_LABELS,
    })


def _article(db: Session, request: web.Request) -> Article:
    article = article_by_id(db, int(request.match_info["article_id"]))
    if article is None:
        raise web.HTTPNotFound(text="没有这篇文章")
    return article


@require()
async def article_view(request: web.Request) -> web.Response:
    """One article as farmers get it, with its source and dates."""
    with session_scope(console_context(request).sessions) as db:
        article = _article(db, request)
        region = article.region.name if article.region else "全国"
        return aiohttp_jinja2.render_template("article.html", request, {
            "article": article, "region": region, "categories": CATEGORY_LABELS, "statuses": STATUS_LABELS})


def _values(article: Optional[Article]) -> Dict[str, Any]:
    if article is None:
        return {name: "" for name in FIELDS} | {"confidence": "V", "status": "published", "category": "policy"}
    return {
        "category": article.category, "topic": article.topic, "title": article.title,
        "questions": article.questions, "answer": article.answer,
        "region": article.region.name if article.region else "全国", "doc_number": article.doc_number or "",
        "source": article.source, "published_on": article.published_on or "",
        "effective_on": article.effective_on or "",
        "confidence": article.confidence, "status": article.status, "review_on": article.review_on or "",
    }


def _render_form(request: web.Request, article_id: Optional[int], values: Mapping[str, Any], errors: List[str],
                 status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("article_form.html", request, {
        "article_id": article_id, "values": values, "errors": errors, "categories": CATEGORY_LABELS,
        "statuses": STATUS_LABELS,
    }, status=status)


def _input(form: Mapping[str, Any]) -> ArticleInput:
    return ArticleInput(**{name: str(form.get(name, "")).strip() for name in FIELDS})


@require(Role.ADMIN, Role.OFFICER)
async def article_new(request: web.Request) -> web.Response:
    """The empty article form."""
    return _render_form(request, None, _values(None), [])


@require(Role.ADMIN, Role.OFFICER)
async def article_create(request: web.Request) -> web.Response:
    """Check and save a new article (one with the same topic and title is updated, as on import)."""
    user = current_user(request)
    form = await request.post()
    context = console_context(request)
    with session_scope(context.sessions) as db:
        check = check_article(db, _input(form), today=context.today())
        if check.article is None:
            return _render_form(request, None, form, check.errors, status=400)
        check_edit_region(db, user, check.article.region.id if check.article.region else None, "这篇文章")
        existing = article_titled(db, check.article.topic, check.article.title)
        if existing is not None:
            check_edit_region(db, user, existing.region_id, "同名的已有文章")
        article, created = save_article(db, check.article, user.username)
        message = f"已{'新增' if created else '更新'}文章：{article.title}"
        article_id = article.id
    await flash(request, message)
    raise web.HTTPFound(f"/articles/{article_id}")


@require(Role.ADMIN, Role.OFFICER)
async def article_edit(request: web.Request) -> web.Response:
    """The article form filled with the article."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        article = _article(db, request)
        check_edit_region(db, user, article.region_id, "这篇文章")
        return _render_form(request, article.id, _values(article), [])


@require(Role.ADMIN, Role.OFFICER)
async def article_update(request: web.Request) -> web.Response:
    """Check and save changes to one article."""
    user = current_user(request)
    form = await request.post()
    context = console_context(request)
    with session_scope(context.sessions) as db:
        article = _article(db, request)
        check_edit_region(db, user, article.region_id, "这篇文章")
        check = check_article(db, _input(form), today=context.today())
        if check.article is None:
            return _render_form(request, article.id, form, check.errors, status=400)
        check_edit_region(db, user, check.article.region.id if check.article.region else None, "改后的适用地区")
        try:
            update_article(db, article, check.article, user.username)
        except ArticleConflictError as error:
            db.rollback()
            return _render_form(request, article.id, form, [str(error)], status=409)
        article_id = article.id
    await flash(request, "文章已保存")
    raise web.HTTPFound(f"/articles/{article_id}")


@require(Role.ADMIN, Role.OFFICER)
async def article_delete(request: web.Request) -> web.Response:
    """Delete one article (its content stays in the audit log)."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        article = _article(db, request)
        check_edit_region(db, user, article.region_id, "这篇文章")
        title = article.title
        delete_article(db, article, user.username)
    await flash(request, f"已删除文章：{title}")
    raise web.HTTPFound("/articles")


