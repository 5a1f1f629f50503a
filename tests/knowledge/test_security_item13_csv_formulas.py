"""Security item 13: exported CSV cannot run formulas in Excel, and still imports back unchanged.

An officer's text that starts with =, +, -, @ (or a tab or carriage return) is a formula to Excel
when an admin opens the export; the export writes it with a leading apostrophe, which Excel shows
as text, and the import takes that apostrophe off again.
"""
from __future__ import annotations

import csv
import datetime as dt

from sqlalchemy import select

from knowledge.articles.entry import article_input, check_article, save_article
from knowledge.files.articles import export_articles, import_articles
from knowledge.models import Article

TODAY = dt.date(2026, 11, 22)
FORMULAS = ['=HYPERLINK("http://example.com/x","点这里")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1"]


def test_item13_export_neutralises_formulas_and_import_restores_the_text(seeded_session, tmp_path) -> None:
    for index, answer in enumerate(FORMULAS):
        check = check_article(seeded_session, article_input({
            "category": "政策", "topic": "最低收购价", "title": f"公式{index}", "answer": answer, "source": "局",
        }), today=TODAY)
        assert check.article is not None, check.errors
        save_article(seeded_session, check.article, "admin")
    path = tmp_path / "articles.csv"
    export_articles(seeded_session, path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]

    for article in seeded_session.scalars(select(Article).where(Article.title.like("公式%"))):
        article.answer = "改过"
    report = import_articles(seeded_session, path, "admin", today=TODAY)
    assert report.ok, report.problems
    query = select(Article.title, Article.answer).where(Article.title.like("公式%"))
    answers = dict(seeded_session.execute(query).all())
    assert [answers[f"公式{index}"] for index in range(len(FORMULAS))] == [text.strip() for text in FORMULAS]
