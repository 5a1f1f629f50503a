"""The end-to-end bench's arithmetic (bench/e2e_bench.py): profile summaries, ratios to stock, the report page.
The load itself runs only under `python -m bench.e2e_bench` (a benchmark, not a test)."""
from __future__ import annotations

from pathlib import Path

from bench.e2e_bench import markdown, ratios, summarise_profile


def test_profile_summary_leaves_idle_waits_out(tmp_path: Path) -> None:
    raw = tmp_path / "profile.txt"
    raw.write_text(
        "process 1;thread (0x1);run (rasa/api.py:56);save (rasa/core/tracker_store.py:1339);"
        "do_commit (sqlalchemy/engine/default.py:686) 30\n"
        "process 1;thread (0x1);run (rasa/api.py:56);parse (rasa/core/processor.py:700) 70\n"
        "process 1;thread (0x1);serve (sanic/server/runners.py:155) 900\n"
        "process 1;thread (0x2);_worker (concurrent/futures/thread.py:81) 500\n",
        encoding="utf-8")
    summary = summarise_profile(raw)
    assert summary["samples"] == 100
    assert summary["own"][0] == {"function": "parse (rasa/core/processor.py:700)", "percent": 70.0}
    inclusive = {row["function"]: row["percent"] for row in summary["inclusive"]}
    assert inclusive["save (rasa/core/tracker_store.py:1339)"] == 30.0
    assert inclusive["run (rasa/api.py:56)"] == 100.0


def _phase(bot: str, farmers: int, p50: float, rate: float) -> dict:
    return {"bot": bot, "channel": "rest", "load": "closed", "farmers": farmers, "p50_ms": p50, "p95_ms": p50 * 2,
            "p99_ms": p50 * 3, "messages_per_second": rate, "cpu_ms_per_message_total": 40.0,
            "cpu_ms_per_message": {"rasa": 40.0}, "errors": 0, "other_cpu_cores": 0.1, "load_average": [1.0]}


def test_ratios_compare_ours_with_stock_at_the_same_load() -> None:
    phases = [_phase("ours", 1, 30.0, 20.0), _phase("stock", 1, 40.0, 16.0), _phase("ours", 5, 90.0, 30.0)]
    [only] = ratios(phases)  # 5 farmers has no stock figure to compare with
    assert only["farmers"] == 1
    assert only["p50_ms_ratio"] == 0.75 and only["messages_per_second_ratio"] == 1.25


def test_report_page_shows_every_phase_and_ratio() -> None:
    phases = [_phase("ours", 1, 30.0, 20.0), _phase("stock", 1, 40.0, 16.0)]
    report = {"label": "after", "generated_at": "now", "ours_commit": "abc1234", "machine": {"cpus": 2},
              "load_average_start": [1.0], "load_average_end": [1.0], "seconds_per_phase": 12, "phases": phases,
              "ratios": ratios(phases), "processes": {"ours": {"rasa": {"ready_seconds": 40.0, "rss_mb": 1200.0}}},
              "parse": {"ours": {"p50_ms": 12.0, "p95_ms": 15.0}}, "profiles": {}, "profile_farmers": 5,
              "plot": "e2e_bench.svg"}
    page = markdown(report)
    assert "| ours | rest | 1 farmers | 30.0 |" in page and "| stock | rest | 1 farmers | 40.0 |" in page
    assert "| 1 farmers | 0.75 |" in page
    assert "| ours | rasa | 40.0 | 1200.0 |" in page
