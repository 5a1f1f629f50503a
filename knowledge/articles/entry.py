"""Validating and saving one policy or insurance article: the single rule set behind the seed,
article import and the console's article form. Saving also updates the search index and the
audit log in the same transaction, so no path can write an article the search does not see.

Validation messages are plain Chinese, because officers read them.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.articles.search import index_article
from knowledge.audit import record_change, snapshot
from knowledge.catalog.lookup import find_region
from knowledge.fields import clean_text, name_problem, parse_date
from knowledge.local_time import local_today
from knowledge.models import Article, Region

# Officers write categories and statuses in Chinese as often as in English.
CATEGORY_NAMES = {
    "policy": "policy", "政策": "policy", "农业政策": "policy", "补贴": "policy",
    "pension": "pension", "养老": "pension", "养老保险": "pension",
    "medical": "medical", "医保": "medical", "医疗": "medical", "医疗保险": "medical",
    "other": "other", "其他": "other",
}
STATUS_NAMES = {"published": "published", "已发布": "published", "发布": "published",
                "draft": "draft", "草稿": "draft"}
# facts.md: an uncertain figure may only be given with these words.
UNCERTAIN_NOTICE = "以当地公示为准"
AUDITED_COLUMNS = ("category", "topic", "title", "questions", "answer", "region_id", "doc_number", "source",
                   "published_on", "effective_on", "confidence", "status", "review_on")
_QUESTION_SEPARATORS = re.compile(r"[\n|｜;；]+")


@dataclass
class ArticleInput:
    """An article as an officer or a file gives it: text fields, not yet checked."""

    category: Any
    topic: Any
    title: Any
    answer: Any
    source: Any
    questions: Any = None
    region: Any = None
    doc_number: Any = None
    published_on: Any = None
    effective_on: Any = None
    confidence: Any = "V"
    status: Any = "published"
    # After this day the console's 需要更新 page lists the article for a check.
    review_on: Any = None


def article_input(values: Mapping[str, Any]) -> ArticleInput:
    """An ArticleInput from a mapping with the field names as keys (a YAML item, a file row)."""
    return ArticleInput(**{name: values.get(name) for name in ArticleInput.__dataclass_fields__})


@dataclass
class CheckedArticle:
    """An article that passed validation; region None means national."""

    category: str
    topic: str
    title: str
    questions: List[str]
    answer: str
    source: str
    region: Optional[Region]
    doc_number: Optional[str]
    published_on: Optional[dt.date]
    effective_on: Optional[dt.date]
    confidence: str
    status: str
    review_on: Optional[dt.date] = None


@dataclass
class ArticleCheck:
    """The outcome of validating one article: the checked article, or every reason it was refused."""

    article: Optional[CheckedArticle] = None
    errors: List[str] = field(default_factory=list)


def split_questions(value: Any) -> List[str]:
    """Question forms from a list, or from text with one per line (or separated by | or ；)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else _QUESTION_SEPARATORS.split(str(value))
    return [text for text in (clean_text(item) for item in items) if text]


def _required(value: Any, label: str, max_length: int, errors: List[str], dictionary_word: bool = False) -> str:
    text = clean_text(value)
    problem = name_problem(text, label, dictionary_word)
    if not text:
        errors.append(f"缺少{label}")
    elif len(text) > max_length:
        errors.append(f"{label}太长（{len(text)} 字，最多 {max_length} 字）")
    elif problem:
        errors.append(problem)
    return text


def check_article(session: Session, entry: ArticleInput, today: Optional[dt.date] = None) -> ArticleCheck:
    """Validate one article; collects every problem, not just the first."""
    today = today or local_today()
    errors: List[str] = []

    category_text = clean_text(entry.category)
    category = CATEGORY_NAMES.get(category_text.lower())
    if category is None:
        errors.append(f"分类“{category_text}”不对，只能是 政策、养老、医保 或 其他" if category_text else "缺少分类")
    # The topic becomes a word of the NLU's dictionary and lookups (knowledge.catalog.dictionary).
    topic = _required(entry.topic, "主题", 64, errors, dictionary_word=True)
    title = _required(entry.title, "标题", 128, errors)
    answer = clean_text(entry.answer)
    if not answer:
        errors.append("缺少答案")
    source = _required(entry.source, "来源", 256, errors)
    doc_number = clean_text(entry.doc_number) or None
    if doc_number and len(doc_number) > 64:
        errors.append(f"文号太长（{len(doc_number)} 字，最多 64 字）")

    region_name = clean_text(entry.region)
    region = None
    if region_name and region_name != "全国":
        region = find_region(session, region_name)
        if region is None:
            errors.append(f"不认识的地区“{region_name}”")
        elif region.parent_id is None:
            region = None  # the root: national

    status_text = clean_text(entry.status) or "published"
    status = STATUS_NAMES.get(status_text.lower())
    if status is None:
        errors.append(f"状态“{status_text}”不对，只能是 已发布 或 草稿")
    # Optional: for some facts only the year is known, and the answer text then says it.
    published_on = parse_date(entry.published_on, today, errors, label="发布日期", required=False)
    effective_on = parse_date(entry.effective_on, today, errors, label="生效日期", required=False, allow_future=True)
    review_on = parse_date(entry.review_on, today, errors, label="复核日期", required=False, allow_future=True)

    confidence = clean_text(entry.confidence) or "V"
    if confidence not in ("V", "V2", "U"):
        errors.append(f"可信度只能是 V、V2 或 U，不是“{confidence}”")
    elif confidence == "U" and answer and UNCERTAIN_NOTICE not in answer:
        errors.append(f"可信度为 U 的答案必须写明“{UNCERTAIN_NOTICE}”")

    if errors or category is None or status is None:
        return ArticleCheck(errors=errors)
    return ArticleCheck(
        article=CheckedArticle(
            category=category,
            topic=topic,
            title=title,
            questions=split_questions(entry.questions),
            answer=answer,
            source=source,
            region=region,
            doc_number=doc_number,
            published_on=published_on,
            effective_on=effective_on,
            confidence=confidence,
            status=status,
            review_on=review_on,
        )
    )


class ArticleConflictError(ValueError):
    """Another article already has this topic and title; the message is plain Chinese."""


def _apply(article: Article, checked: CheckedArticle, author: str) -> None:
    article.category = checked.category
    article.topic = checked.topic
    article.title = checked.title
    article.questions = "\n".join(checked.questions)
    article.answer = checked.answer
    article.region = checked.region
    article.doc_number = checked.doc_number
    article.source = checked.source
    article.published_on = checked.published_on
    article.effective_on = checked.effective_on
    article.confidence = checked.confidence
    article.status = checked.status
    article.review_on = checked.review_on
    article.updated_by = author


def _store(session: Session, article: Article, checked: CheckedArticle, author: str, created: bool) -> None:
    before = None if created else snapshot(article, AUDITED_COLUMNS)
    _apply(article, checked, author)
    session.flush()
    after = snapshot(article, AUDITED_COLUMNS)
    if before != after:
        record_change(session, author, "create" if created else "update", "article", article.id, before, after)
    index_article(session, article)


def save_article(session: Session, checked: CheckedArticle, author: str) -> Tuple[Article, bool]:
    """Insert the article, or update in place the one with the same (topic, title); index and audit it.

    Returns the article and whether it was newly created. The caller owns the transaction.
    """
    article = session.scalars(
        select(Article).where(Article.topic == checked.topic, Article.title == checked.title)
    ).first()
    created = article is None
    if article is None:
        article = Article(topic=checked.topic, title=checked.title)
        session.add(article)
    _store(session, article, checked, author, created)
    return article, created


def update_article(session: Session, article: Article, checked: CheckedArticle, author: str) -> Article:
    """Overwrite this article (its topic and title may change too); index and audit it. The caller commits."""
    clash = session.scalars(
        select(Article.id).where(
            Article.topic == checked.topic, Article.title == checked.title, Article.id != article.id
        )
    ).first()
    if clash is not None:
        raise ArticleConflictError(f"主题“{checked.topic}”下已经有标题为“{checked.title}”的文章（编号 {clash}）")
    _store(session, article, checked, author, created=False)
    return article


def delete_article(session: Session, article: Article, actor: str) -> None:
    """Delete the article and its search entry, keeping its last content in the audit log. The caller commits."""
    before = snapshot(article, AUDITED_COLUMNS)
    article_id = article.id
    article.status = "draft"
    index_article(session, article)  # drafts are never indexed: this removes its entry on every backend
    session.delete(article)
    session.flush()
    record_change(session, actor, "delete", "article", article_id, before, None)
