"""Article retrieval benchmark: the labelled farmer questions of tests/golden/articles.yml against search.

Search is tuned on a separate development set (tests/golden/articles_dev.yml, scored and
reported under "dev"); the test set's figures are the ones the floors and targets hold.

Every question goes to knowledge.articles.search_articles (no farmer region, as a first question
has none) over a freshly seeded SQLite knowledge DB; a question is right at top-1 when the first
hit is its labelled article (topic + title), at top-3 when the article is among the first three.
Reported overall and per topic, with every miss, to bench/reports/article_bench.json.

"ok" means every score is at least its floor in tests/golden/thresholds.yml (the floors
tests/golden/test_golden_article_retrieval.py holds the suite to); TARGETS are the goals of
issue 14 and are reported, not enforced.
"""
from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence

import yaml
from sqlalchemy.orm import Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTICLE_SET = PROJECT_ROOT / "tests" / "golden" / "articles.yml"
DEV_SET = PROJECT_ROOT / "tests" / "golden" / "articles_dev.yml"
REPORT_PATH = PROJECT_ROOT / "bench" / "reports" / "article_bench.json"
TARGETS = {"top1": 0.95}
# The day both sets were written: "去年", "今年" and "现在" in them mean 2025 and 2026, so the
# search is asked as of that day, and a score does not change when the calendar does.
AS_OF = dt.date(2026, 11, 30)
# How many hits a question is scored on: the answer and the two "不是这个？" buttons.
TOP_K = 3


@dataclass(frozen=True)
class ArticleQuestion:
    """A farmer question labelled with the article (topic, title) that answers it."""

    question: str
    topic: str
    title: str


def load_article_set(path: Path = ARTICLE_SET) -> List[ArticleQuestion]:
    """Every labelled question of the set, in file order."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        ArticleQuestion(question, article["topic"], article["title"])
        for article in document["articles"]
        for question in article["questions"]
    ]


def score_article_set(session: Session, questions: Sequence[ArticleQuestion]) -> Dict[str, Any]:
    """Top-1 and top-3 overall and per topic, the mean search time, and every question not right at top-1."""
    from knowledge.articles.search import search_articles, topic_aliases

    aliases = topic_aliases(session)
    by_topic: Dict[str, List[int]] = defaultdict(list)  # rank of the labelled article per question, 0 = missed
    misses = []
    started = time.perf_counter()
    for item in questions:
        hits = search_articles(session, item.question, limit=TOP_K, aliases=aliases, today=AS_OF)
        keys = [(hit.topic, hit.title) for hit in hits]
        rank = keys.index((item.topic, item.title)) + 1 if (item.topic, item.title) in keys else 0
        by_topic[item.topic].append(rank)
        if rank != 1:
            misses.append({"question": item.question, "expected": item.title, "rank": rank or None,
                           "got": [hit.title for hit in hits]})
    elapsed = time.perf_counter() - started

    def shares(ranks: List[int]) -> Dict[str, Any]:
        return {
            "questions": len(ranks),
            "top1": round(sum(rank == 1 for rank in ranks) / len(ranks), 4),
            "top3": round(sum(1 <= rank <= TOP_K for rank in ranks) / len(ranks), 4),
        }

    every = [rank for ranks in by_topic.values() for rank in ranks]
    return {
        **shares(every),
        "ms_per_question": round(1000 * elapsed / max(1, len(every)), 2),
        "topics": {topic: shares(ranks) for topic, ranks in by_topic.items()},
        "misses": misses,
    }


def main() -> Dict[str, Any]:
    """Score the article set over a freshly seeded SQLite knowledge DB and write the report."""
    from knowledge import migrate
    from knowledge.db import make_engine, make_session_factory
    from knowledge.seed import seed
    from tests.golden.thresholds import load_thresholds, shortfalls

    with tempfile.TemporaryDirectory() as workdir:
        engine = make_engine(f"sqlite:///{Path(workdir) / 'knowledge.db'}")
        migrate.upgrade(engine)
        session = make_session_factory(engine)()
        try:
            seed(session)
            session.commit()
            report = score_article_set(session, load_article_set())
            dev = score_article_set(session, load_article_set(DEV_SET))
        finally:
            session.close()
            engine.dispose()
    thresholds = load_thresholds()
    floors = thresholds["articles"]
    missing = shortfalls({"top1": report["top1"], "top3": report["top3"]}, floors)
    missing += shortfalls({"top1": dev["top1"], "top3": dev["top3"]}, thresholds.get("articles_dev") or {})
    report = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "floors": floors,
        "targets": TARGETS,
        "targets_met": {name: report[name] >= target for name, target in TARGETS.items()},
        "ok": not missing,
        **report,
        "dev": dev,
    }
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
