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


def test_targets_say_met_missed_by_how_much_or_not_measured(tmp_path: Path, monkeypatch) -> None:
    import json

    import bench._report
    import bench.e2e_bench as e2e

    monkeypatch.setattr(bench._report, "REPORT_DIR", tmp_path)
    (tmp_path / "train_bench.json").write_text(json.dumps(
        {"generated_at": "then", "runs": [{"bot": "ours", "seconds": 200.0}, {"bot": "stock", "seconds": 50.0}]}))
    phases = [_phase("ours", 1, 22.0, 45.0), _phase("stock", 1, 30.0, 30.0), _phase("ours", 5, 80.0, 62.0),
              _phase("stock", 5, 120.0, 34.0), {**_phase("scaled", 20, 300.0, 58.5), "channel": "webchat"}]
    report = {"phases": phases, "processes": {"ours": {"rasa": {"ready_seconds": 12.0, "rss_mb": 700.0},
                                                       "actions": {"ready_seconds": 2.0, "rss_mb": 240.0}}}}
    verdicts = {target: (measured, verdict) for target, measured, verdict in e2e.targets(report)}
    assert verdicts["1 farmer p50 ≤ 30 ms"] == ("22.0 ms", "met")
    assert verdicts["1 farmer p50 ≤ 0.75 × stock"][1] == "met"  # 22 / 30 = 0.73
    assert verdicts["one Rasa + one action server ≥ 30 msg/s"] == ("62.0 msg/s at 5 farmers", "met")
    assert verdicts["… and ≥ 1.3 × stock"][0].startswith("1.82 ×")  # compared with stock at the same load
    assert verdicts["whole stack, 2 Rasa, two cores ≥ 60 msg/s"][1] == "missed by 1.5"
    assert verdicts["`make run` stack ≤ 2 GB resident"] == ("940.0 MB (2 processes)", "met")
    assert verdicts["training ≤ 3 min"][1] == "missed by 20.0"
    assert verdicts["fresh-clone `make test` ≤ 10 min"][1] == "not measured"


def test_fresh_test_steps_split_the_total_at_each_steps_first_line() -> None:
    from bench.fresh_test_bench import split_steps

    stamped = [(0.5, "Creating .venv with python3.10"), (1.0, ".venv/bin/python -m pip install -r requirements.lock"),
               (90.0, ".venv/bin/ruff check ."), (95.0, ".venv/bin/mypy"),
               (120.0, ".venv/bin/python -m knowledge migrate"), (130.0, ".venv/bin/rasa data validate"),
               (140.0, "Unit tests while the model trains (when it must); each one's output shows when it ends…"),
               (300.0, '.venv/bin/python -m pytest -m "not integration and not scale"'),
               (310.0, ".venv/bin/python -m rasa_extensions.cli train --fixed-model-name xiangxin"),
               (320.0, '.venv/bin/python -m pytest -m "integration and not scale"'),
               (400.0, ".venv/bin/python -m rasa_extensions.cli test core --model m"),
               (440.0, ".venv/bin/python -m scripts.holdout_report --model m")]
    steps = {step["step"]: step["seconds"] for step in split_steps(stamped, 460.0)}
    assert steps == {"venv (pip install from requirements.lock)": 90.0, "lint (ruff, mypy)": 30.0,
                     "knowledge DB, dictionary, rasa data validate": 20.0, "unit tests while the model trains": 180.0,
                     "integration (real Rasa, golden conversations)": 80.0, "test stories": 40.0,
                     "held-out NLU": 20.0}
