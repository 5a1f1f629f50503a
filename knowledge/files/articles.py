"""Importing an article file (CSV, .xlsx or YAML) all or nothing, and exporting every article in the same layout.

Every row is checked by the shared article rules (knowledge.articles.entry) before anything is
written; the caller commits only a clean import.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Any, Dict, List, Optional, Tuple

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.articles.entry import CheckedArticle, article_input, check_article, save_article
from knowledge.audit import record_change
from knowledge.fields import clean_text, name_problem
from knowledge.files.tables import ImportFileError, ImportReport, RowProblem, decode_text, read_table, write_csv
from knowledge.local_time import local_today
from knowledge.models import Article, Region, TopicAlias

ARTICLE_HEADERS: Dict[str, Tuple[str, ...]] = {
    "category": ("分类", "类别", "category"),
    "topic": ("主题", "topic"),
    "title": ("标题", "title"),
    "questions": ("问法", "常见问法", "问题", "questions"),
    "answer": ("答案", "回答", "answer"),
    "region": ("地区", "适用地区", "region"),
    "doc_number": ("文号", "doc_number"),
    "source": ("来源", "source"),
    "published_on": ("发布日期", "published_on"),
    "effective_on": ("生效日期", "effective_on"),
    "confidence": ("可信度", "confidence"),
    "status": ("状态", "status"),
    "review_on": ("复核日期", "review_on"),
}
ARTICLE_REQUIRED = ("category", "topic", "title", "answer", "source")

YAML_SUFFIXES = (".yml", ".yaml")


def _refuse_aliases(text: str) -> None:
    # An alias (*name) repeats an anchored node by reference: ten levels of ten make a billion
    # strings once a field is read as text. Officers' files never need them.
    for event in yaml.parse(text):
        if isinstance(event, yaml.AliasEvent):
            assert event.start_mark is not None  # the parser marks every event it reads
            line = event.start_mark.line + 1
            raise ImportFileError(f"第{line}行：YAML 文件里不能使用锚点和引用（& 和 *），请把内容直接写出来")


def _yaml_articles(path: Path) -> Tuple[List[Tuple[int, Dict[str, Any]]], Dict[str, List[str]]]:
    text = decode_text(path.read_bytes())
    try:
        _refuse_aliases(text)
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ImportFileError(f"YAML 格式有误：{error}") from error
    aliases: Dict[str, List[str]] = {}
    items_node = root
    if isinstance(data, dict):
        assert root is not None  # text that loads as a mapping composes to a node
        aliases = data.get("topic_aliases") or {}
        data = data.get("articles") or []
        items_node = next((value for key, value in root.value if key.value == "articles"), None)
    if not isinstance(data, list):
        raise ImportFileError("YAML 文件里应当是文章列表（articles:）")
    lines = [node.start_mark.line + 1 for node in items_node.value] if items_node is not None else []
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ImportFileError(f"第{lines[index]}行：每篇文章应当是“键: 值”的形式")
        rows.append((lines[index], item))
    return rows, aliases


def _check_topic_aliases(session: Session, aliases: Dict[str, List[str]]) -> Tuple[List[Tuple[str, str]], List[str]]:
    new: List[Tuple[str, str]] = []
    problems: List[str] = []
    known = {row.alias: row.topic for row in session.execute(select(TopicAlias.alias, TopicAlias.topic))}
    for topic, names in aliases.items():
        for alias in names or []:
            alias = clean_text(alias)
            # Aliases become words of the NLU's dictionary and lookups (knowledge.catalog.dictionary).
            shown = repr(alias)[1:-1]  # a line break shows as \\n instead of breaking the message
            problem = name_problem(alias, f"别名“{shown}”", dictionary_word=True) if alias else "别名不能为空"
            if problem:
                problems.append(problem)
                continue
            owner = known.get(alias)
            if owner is None:
                new.append((alias, topic))
                known[alias] = topic
            elif owner != topic:
                problems.append(f"别名“{alias}”已经属于主题“{owner}”，不能再给“{topic}”")
    return new, problems


@dataclass
class ArticleRows:
    """An article file read and checked: the good articles by (topic, title), new topic aliases, every problem."""

    rows: int
    good: Dict[Tuple[str, str], CheckedArticle]
    new_aliases: List[Tuple[str, str]]
    problems: List[RowProblem]


def _region_name(region: Optional[Region]) -> str:
    return region.name if region is not None else "全国"


def _scope_problems(
    session: Session, article: CheckedArticle, scope: Optional[AbstractSet[int]]
) -> List[str]:
    """Why an account limited to `scope` (region ids; None: every region) may not import this row."""
    if scope is None:
        return []
    problems = []
    if article.region is None or article.region.id not in scope:
        problems.append(f"文章“{article.title}”适用于“{_region_name(article.region)}”，不在您负责的范围内")
    # The import overwrites the article with the same topic and title: that one must be ours too,
    # or an officer could rewrite, move or unpublish a national or another region's article.
    existing = session.scalars(
        select(Article).where(Article.topic == article.topic, Article.title == article.title)
    ).first()
    if existing is not None and (existing.region_id is None or existing.region_id not in scope):
        problems.append(f"主题“{article.topic}”下已有适用于“{_region_name(existing.region)}”的同名文章"
                        f"“{article.title}”，不在您负责的范围内，不能修改")
    return problems


def check_article_file(
    session: Session, path: Path, today: dt.date, scope: Optional[AbstractSet[int]] = None
) -> ArticleRows:
    """Read an article file (CSV, .xlsx or YAML) and check every row with the shared rules; writes nothing.

    `scope` is the set of region ids the importing account may change (None: every region, as for
    admins and the command line); rows outside it, and topic aliases, which apply nationwide, are
    refused for a limited account.
    """
    new_aliases: List[Tuple[str, str]] = []
    if path.suffix.lower() in YAML_SUFFIXES:
        rows, aliases = _yaml_articles(path)
        new_aliases, alias_problems = _check_topic_aliases(session, aliases)
        if aliases and scope is not None:
            alias_problems = ["只有管理员可以添加主题别名（别名对全国生效）"]
        problems = [RowProblem(1, alias_problems)] if alias_problems else []
    else:
        table, problems = read_table(path, ARTICLE_HEADERS, ARTICLE_REQUIRED)
        if table is None:
            return ArticleRows(0, {}, [], problems)
        rows = table.rows
    good: Dict[Tuple[str, str], CheckedArticle] = {}
    for line, row in rows:
        check = check_article(session, article_input(row), today=today)
        outside = _scope_problems(session, check.article, scope) if check.article is not None else []
        if check.article is None or outside:
            problems.append(RowProblem(line, check.errors or outside))
        else:
            good[(check.article.topic, check.article.title)] = check.article  # a repeated row: the later wins
    return ArticleRows(len(rows), good, new_aliases, problems)


def import_articles(
    session: Session,
    path: Path,
    actor: str,
    today: Optional[dt.date] = None,
    scope: Optional[AbstractSet[int]] = None,
) -> ImportReport:
    """Import an article file (CSV, .xlsx or YAML) all or nothing; the caller commits only when the report is ok.

    `scope` limits what the actor may change, as in check_article_file.
    """
    checked_file = check_article_file(session, path, today or local_today(), scope)
    report = ImportReport(rows=checked_file.rows, problems=checked_file.problems)
    if report.problems:
        return report
    for alias, topic in checked_file.new_aliases:
        session.add(TopicAlias(alias=alias, topic=topic))
        record_change(session, actor, "create", "topic_alias", None, None, {"alias": alias, "topic": topic})
    for checked in checked_file.good.values():
        _, created = save_article(session, checked, author=actor)
        if created:
            report.created += 1
        else:
            report.updated += 1
    record_change(session, actor, "import", "article", None, None, {
        "file": path.name, "rows": report.rows, "created": report.created, "updated": report.updated,
    })
    return report


def export_articles(session: Session, path: Path) -> int:
    """Write every article (drafts too) in the import layout; returns the row count."""
    query = (
        select(Article.category, Article.topic, Article.title, Article.questions, Article.answer, Region.name,
               Article.doc_number, Article.source, Article.published_on, Article.effective_on, Article.confidence,
               Article.status, Article.review_on)
        .outerjoin(Region, Region.id == Article.region_id)
        .order_by(Article.category, Article.topic, Article.id)
    )
    rows = ((*row[:5], row[5] or "全国", *row[6:]) for row in session.execute(query))
    return write_csv(path, [names[0] for names in ARTICLE_HEADERS.values()], rows)
