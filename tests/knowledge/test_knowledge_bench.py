"""The benchmark's own arithmetic and discovery (the timed run itself is `make bench`)."""
from __future__ import annotations

import importlib

knowledge_bench = importlib.import_module("bench.knowledge_bench")
bench_main = importlib.import_module("bench.__main__")


def test_percentiles_of_latencies():
    figures = knowledge_bench.percentiles([float(n) for n in range(1, 101)])
    assert figures == {"n": 100, "p50": 50.5, "p95": 95.0, "max": 100.0}


def test_full_scale_is_ten_million_records_and_smaller_scales_shrink_products():
    full = knowledge_bench.sizes(1.0)
    assert full["products"] * full["markets"] * full["days"] == 9_900_000
    assert (full["articles"], full["import_rows"]) == (10_000, 100_000)
    smoke = knowledge_bench.sizes(0.01)
    assert (smoke["products"], smoke["markets"], smoke["articles"], smoke["import_rows"]) == (10, 300, 200, 1000)


def test_every_bench_module_is_discovered():
    assert "knowledge_bench" in bench_main.discover()
    assert "__main__" not in bench_main.discover()


def test_console_bench_generates_a_tracker_store_the_console_reads(tmp_path):
    console_bench = importlib.import_module("bench.console_bench")
    from knowledge.conversations.tracker import ConversationFilter, TrackerReader

    events = console_bench.build_tracker(tmp_path / "tracker.db", 30)
    reader = TrackerReader(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        assert reader.count_conversations(ConversationFilter()) == 30
        assert 30 * 4 * 4 <= events <= 30 * 12 * 4
        assert reader.count_conversations(ConversationFilter(channel="web")) == 10
        assert reader.transcript("tg-100001")[0].intent in {intent for intent, _, _ in console_bench.QUESTIONS}
    finally:
        reader.close()
    assert "console_bench" in bench_main.discover()


def test_the_report_is_ok_only_when_every_backend_meets_every_target(monkeypatch):
    met = {"sqlite": {"latest_price_p95_ms": True}, "postgresql": {"latest_price_p95_ms": False}}
    monkeypatch.setattr(knowledge_bench, "_postgres_reachable", lambda: None)
    monkeypatch.setattr(knowledge_bench, "run_backend", lambda backend, size: {"targets_met": met[backend]})
    monkeypatch.setenv("BENCH_BACKENDS", "sqlite,postgresql")
    assert knowledge_bench.main()["ok"] is False
    monkeypatch.setenv("BENCH_BACKENDS", "sqlite")
    assert knowledge_bench.main()["ok"] is True
