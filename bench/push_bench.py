"""Push scheduler benchmark: how long the gateway's push rounds take with many subscribers, on SQLite.

Builds a seeded knowledge DB under var/bench/ with N Telegram farmers, each with a price alert
(any change, above or below a threshold, spread over the products that have prices) and N more
with a daily digest, then measures:
  quiet_round_ms        a round with nothing new (what every gateway does every PUSH_INTERVAL_SECONDS)
  alert_round_seconds   the round after an import that changes every product's price
  daily_round_seconds   the round at the digest hour
  settle_per_second     claiming and marking pushes sent (the database side of sending; Telegram's own
                        limit of about 30 messages a second is far below it)

Environment: BENCH_PUSH_FARMERS (default 10000).
Run alone with `python -m bench push_bench`.
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List

from sqlalchemy import func, insert, select, update

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bot.push_scheduler import PushScheduler  # noqa: E402
from knowledge import migrate  # noqa: E402
from knowledge.db import KnowledgeStore, make_engine, make_session_factory, open_store, session_scope  # noqa: E402
from knowledge.files.prices import import_prices  # noqa: E402
from knowledge.local_time import local_zone  # noqa: E402
from knowledge.models import Farmer, PriceRecord, Product, Push, Subscription, utcnow  # noqa: E402
from knowledge.outbox.queue import claim_telegram_pushes, mark_sent  # noqa: E402
from knowledge.seed import seed  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
TARGETS = {"quiet_round_ms": 50.0, "round_after_import_ms": 1000.0, "alert_round_seconds": 10.0,
           "daily_round_seconds": 10.0}
RULES = ("any_change", "above", "below")


def _build(path: Path, farmers: int, today: dt.date) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        seed(session, today=today)
        # The seed is old news by the time farmers subscribe.
        session.execute(update(PriceRecord).values(updated_at=utcnow() - dt.timedelta(days=2)))
    with session_scope(factory) as session:
        products = session.scalars(
            select(Product.id).where(Product.id.in_(select(PriceRecord.product_id).distinct())).order_by(Product.id)
        ).all()
        created = utcnow() - dt.timedelta(days=1)
        session.execute(insert(Farmer.__table__), [
            {"sender_id": f"tg-{number}", "channel": "telegram", "chat_id": str(number), "created_at": created,
             "updated_at": created, "updated_by": "bench"} for number in range(2 * farmers)
        ])
        ids = session.scalars(select(Farmer.id).order_by(Farmer.id)).all()
        rows = []
        for index, farmer_id in enumerate(ids):
            daily = index >= farmers
            rule = "daily" if daily else RULES[index % len(RULES)]
            rows.append({
                "farmer_id": farmer_id, "product_id": products[index % len(products)], "rule": rule,
                "threshold": Decimal("0.01") if rule == "above" else Decimal("999") if rule == "below" else None,
                "daily_hour": 8 if daily else None, "active": True, "created_at": created, "updated_at": created,
                "updated_by": "bench",
            })
        session.execute(insert(Subscription.__table__), rows)
    engine.dispose()
    return url


def _import_new_prices(store: KnowledgeStore, today: dt.date) -> int:
    def work(session) -> int:
        names = session.scalars(
            select(Product.name).where(Product.id.in_(select(PriceRecord.product_id).distinct()))
        ).all()
        path = BENCH_DIR / "push_bench_prices.csv"
        lines = ["品名,市场,地区,平均价,单位,发布日期,来源"]
        lines += [f"{name},基准粮站,石家庄市,{1 + index / 100:.2f},元/斤,{today},基准测试"
                  for index, name in enumerate(names)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # Made-up prices (1.00, 1.01 … for every product): checked for plausibility, never held.
        report = import_prices(session, path, actor="bench", today=today, outlier_factor=Decimal(100),
                               accept_outliers=True)
        if not report.ok:
            raise RuntimeError(f"bench import refused: {report.problems[:3]}")
        return report.rows

    return store.run_blocking(work)


def _timed_rounds(scheduler: PushScheduler, now: dt.datetime, rounds: int = 10) -> List[float]:
    """Milliseconds of each of `rounds` push rounds at `now`."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        scheduler.notice(now)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> Dict[str, Any]:
    """Build the data, run the measured rounds, report the figures and whether they meet TARGETS."""
    farmers = int(os.environ.get("BENCH_PUSH_FARMERS", "10000"))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    url = _build(BENCH_DIR / "push_bench.db", farmers, today)
    store = open_store(url)
    try:
        scheduler = PushScheduler(store, 30, local_zone("Asia/Shanghai"), 7)
        # 07:00 in China, before anyone's digest hour; the first round starts the price cursor.
        before_eight = dt.datetime.combine(today, dt.time(23)) - dt.timedelta(days=1)
        scheduler.notice(before_eight)
        quiet = _timed_rounds(scheduler, before_eight)
        products = _import_new_prices(store, today)
        started = time.perf_counter()
        alerts = scheduler.notice(before_eight)
        alert_seconds = time.perf_counter() - started
        # Rounds soon after an import look back over it again (PRICE_LOOKBACK) and must find nothing new.
        after_import = _timed_rounds(scheduler, before_eight)
        at_eight = dt.datetime.combine(today, dt.time(0, 30)) + dt.timedelta(days=1)  # 08:30 tomorrow in China
        started = time.perf_counter()
        digests = scheduler.notice(at_eight)
        daily_seconds = time.perf_counter() - started
        started = time.perf_counter()
        settled = 0
        while True:
            jobs = store.run_blocking(lambda session: claim_telegram_pushes(session, "bench", limit=50, now=at_eight))
            if not jobs:
                break
            store.run_blocking(lambda session, jobs=jobs: [mark_sent(session, job.id, at_eight) for job in jobs])
            settled += len(jobs)
        settle_seconds = time.perf_counter() - started
        pending = store.run_blocking(lambda session: session.scalar(
            select(func.count(Push.id)).where(Push.status != "sent")))
    finally:
        store.dispose()
    figures = {
        "farmers_with_alerts": farmers, "farmers_with_digests": farmers, "products_changed": products,
        "quiet_round_ms": round(statistics.median(quiet), 1),
        "round_after_import_ms": round(statistics.median(after_import), 1),
        "alert_round_seconds": round(alert_seconds, 2), "alerts_written": alerts,
        "daily_round_seconds": round(daily_seconds, 2), "digests_written": digests,
        "settle_per_second": round(settled / settle_seconds) if settle_seconds else None,
        "left_unsent": pending,
    }
    ok = all(figures[name] <= target for name, target in TARGETS.items()) and pending == 0
    return {"ok": ok, "targets": TARGETS, **figures}


if __name__ == "__main__":
    import json

    print(json.dumps(main(), ensure_ascii=False, indent=2))
