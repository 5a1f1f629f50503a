"""The labelled article set (tests/golden/articles.yml) against the article search, held to its floors."""
from __future__ import annotations

import importlib

from sqlalchemy import select

from knowledge.models import Article
from tests.golden.thresholds import load_thresholds, shortfalls

article_bench = importlib.import_module("bench.article_bench")

MINIMUM_QUESTIONS = 220


def test_every_label_names_a_published_seed_article_and_the_set_is_large_enough(seeded_session) -> None:
    questions = article_bench.load_article_set()
    published = set(seeded_session.execute(
        select(Article.topic, Article.title).where(Article.status == "published")
    ).all())
    unknown = sorted({(q.topic, q.title) for q in questions} - published)
    assert not unknown, f"labels that are not published seed articles: {unknown}"
    assert len(questions) >= MINIMUM_QUESTIONS
    assert len({q.question for q in questions}) == len(questions), "a question is labelled twice"


def test_article_search_scores_at_least_its_floors(seeded_session, capsys) -> None:
    report = article_bench.score_article_set(seeded_session, article_bench.load_article_set())
    with capsys.disabled():
        print(f"\nArticle retrieval over {report['questions']} questions: "
              f"top-1 {report['top1']:.1%}, top-3 {report['top3']:.1%}")
        for topic, figures in report["topics"].items():
            print(f"  {topic:<16} {figures['questions']:>3}  "
                  f"top-1 {figures['top1']:>6.1%}  top-3 {figures['top3']:>6.1%}")
    missing = shortfalls({"top1": report["top1"], "top3": report["top3"]}, load_thresholds()["articles"])
    misses = "\n".join(f"{m['question']} → {m['got'][:1]} (want {m['expected']})" for m in report["misses"])
    assert not missing, "under the floor: " + "; ".join(missing) + "\n" + misses
