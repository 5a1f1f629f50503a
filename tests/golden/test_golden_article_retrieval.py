"""The labelled article sets against the article search, held to their floors: the test set
(tests/golden/articles.yml) and the development set search is tuned on (tests/golden/articles_dev.yml)."""
from __future__ import annotations

import importlib

import pytest
from sqlalchemy import select

from knowledge.models import Article
from tests.golden.thresholds import load_thresholds, shortfalls

article_bench = importlib.import_module("bench.article_bench")

MINIMUM_QUESTIONS = {article_bench.ARTICLE_SET: 220, article_bench.DEV_SET: 150}


@pytest.mark.parametrize("path", [article_bench.ARTICLE_SET, article_bench.DEV_SET], ids=["test", "dev"])
def test_every_label_names_a_published_seed_article_and_the_set_is_large_enough(seeded_session, path) -> None:
    questions = article_bench.load_article_set(path)
    published = set(seeded_session.execute(
        select(Article.topic, Article.title).where(Article.status == "published")
    ).all())
    unknown = sorted({(q.topic, q.title) for q in questions} - published)
    assert not unknown, f"labels that are not published seed articles: {unknown}"
    assert len(questions) >= MINIMUM_QUESTIONS[path]
    assert len({q.question for q in questions}) == len(questions), "a question is labelled twice"


@pytest.mark.parametrize(
    ("path", "floors"), [(article_bench.ARTICLE_SET, "articles"), (article_bench.DEV_SET, "articles_dev")],
    ids=["test", "dev"],
)
def test_article_search_scores_at_least_its_floors(seeded_session, capsys, path, floors) -> None:
    report = article_bench.score_article_set(seeded_session, article_bench.load_article_set(path))
    with capsys.disabled():
        print(f"\nArticle retrieval over {report['questions']} questions of {path.name}: "
              f"top-1 {report['top1']:.1%}, top-3 {report['top3']:.1%}")
        for topic, figures in report["topics"].items():
            print(f"  {topic:<16} {figures['questions']:>3}  "
                  f"top-1 {figures['top1']:>6.1%}  top-3 {figures['top3']:>6.1%}")
    missing = shortfalls({"top1": report["top1"], "top3": report["top3"]}, load_thresholds()[floors])
    misses = "\n".join(f"{m['question']} → {m['got'][:1]} (want {m['expected']})" for m in report["misses"])
    assert not missing, "under the floor: " + "; ".join(missing) + "\n" + misses
