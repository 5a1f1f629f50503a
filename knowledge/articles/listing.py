"""Articles as officers browse them in the console: search in titles, topics and question forms, filters,
pages; one article by id or by its topic and title."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from knowledge.models import Article
from knowledge.paging import Page, fetch_page


def article_page(
    session: Session,
    words: str = "",
    category: Optional[str] = None,
    status: Optional[str] = None,
    number: int = 1,
    size: int = 50,
) -> Page:
    """Articles by category, topic and id, with their region loaded; `words` found in title, topic or questions."""
    statement = select(Article).options(joinedload(Article.region))
    words = words.strip()
    if words:
        statement = statement.where(or_(*(column.contains(words, autoescape=True)
                                          for column in (Article.title, Article.topic, Article.questions))))
    if category:
        statement = statement.where(Article.category == category)
    if status:
        statement = statement.where(Article.status == status)
    return fetch_page(session, statement, [Article.category, Article.topic, Article.id], number, size)


def article_by_id(session: Session, article_id: int) -> Optional[Article]:
    """The article with this id, if any."""
    return session.get(Article, article_id)


def article_titled(session: Session, topic: str, title: str) -> Optional[Article]:
    """The article with this topic and title (the pair an import or a new entry updates in place), if any."""
    return session.scalars(select(Article).where(Article.topic == topic, Article.title == title)).first()
