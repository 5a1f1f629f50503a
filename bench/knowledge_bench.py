"""Knowledge-base benchmark: latest price, 30-day trend, article search and a 100,000-row import
over about 10 million generated price records (1,000 products × 300 markets × 33 days), on
SQLite and on PostgreSQL.

The data is generated into throwaway databases (var/bench/ for SQLite, a `xiangxin_bench_*`
database on the local PostgreSQL server) and reused on the next run when it is already there,
since writing 10 million rows takes minutes. Nothing here is ever committed.

Environment:
  BENCH_SCALE     fraction of the full size (default 1; 0.01 is a quick smoke run)
  BENCH_BACKENDS  comma-separated, default "sqlite,postgresql"
  BENCH_PG_URL    admin URL of the PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres)
  BENCH_REBUILD   1 to regenerate the data even when a database of this scale exists
  BENCH_QUERIES   timed queries per measurement (default 300)

Run alone with `python -m bench knowledge_bench` (or `python -m bench.knowledge_bench`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from knowledge import migrate  # noqa: E402  (the project root must be importable first)
from knowledge.articles.search import rebuild_search_index, search_articles, topic_aliases  # noqa: E402
from knowledge.db import make_engine, make_session_factory, session_scope  # noqa: E402
from knowledge.files.prices import import_prices  # noqa: E402
from knowledge.models import Article, Market, Product, Region  # noqa: E402
from knowledge.prices.queries import compare_markets, latest_price, price_trend  # noqa: E402
from knowledge.seed import seed  # noqa: E402

logger = logging.getLogger(__name__)

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
FULL = {"products": 1000, "markets": 300, "days": 33, "articles": 10_000, "import_rows": 100_000}
TARGETS = {"latest_price_p95_ms": 5.0, "trend_30d_p95_ms": 20.0, "article_search_p95_ms": 20.0,
           "import_100k_seconds": 30.0}
SOURCE = "基准测试数据"
IMPORT_ACTOR = "bench-import"
SEED = 20261122


def _scale() -> float:
    return float(os.environ.get("BENCH_SCALE", "1") or 1)


def sizes(scale: float) -> Dict[str, int]:
    """The data sizes at a scale: products, articles and import rows shrink; markets and days stay."""
    return {
        "products": max(10, round(FULL["products"] * scale)),
        "markets": FULL["markets"],
        "days": FULL["days"],
        "articles": max(200, round(FULL["articles"] * scale)),
        "import_rows": max(1000, round(FULL["import_rows"] * scale)),
    }


def percentiles(samples_ms: Sequence[float]) -> Dict[str, float]:
    """p50, p95 and max of latencies in milliseconds."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 3), "p95": round(p95, 3),
            "max": round(ordered[-1], 3)}


def time_calls(factory: sessionmaker, calls: Sequence[Callable[[Any], Any]], warmup: int = 20) -> Dict[str, float]:
    """Latency of each call in its own session, as an action opens one per request; warm-up calls not counted."""
    samples = []
    for index, call in enumerate(calls):
        started = time.perf_counter()
        with session_scope(factory) as session:
            call(session)
        elapsed = (time.perf_counter() - started) * 1000
        if index >= warmup:
            samples.append(elapsed)
    return percentiles(samples)


# --- databases -------------------------------------------------------------------------------------

def _pg_admin_url() -> str:
    return os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(backend: str, size: Dict[str, int]) -> str:
    """Where the benchmark data of this size lives."""
    tag = f"{size['products']}p_{size['markets']}m_{size['days']}d"
    if backend == "sqlite":
        return f"sqlite:///{BENCH_DIR / f'knowledge_{tag}.db'}"
    return make_url(_pg_admin_url()).set(database=f"xiangxin_bench_{tag}").render_as_string(hide_password=False)


def _meta(engine: Engine) -> Optional[Dict[str, Any]]:
    try:
        with engine.connect() as connection:
            raw = connection.scalar(text("SELECT value FROM bench_meta WHERE key = 'generated'"))
    except Exception:  # no database or no meta table yet: not generated
        return None
    return json.loads(raw) if raw else None


def _existing_meta(backend: str, url: str) -> Optional[Dict[str, Any]]:
    if backend == "sqlite" and not Path(make_url(url).database).exists():
        return None
    engine = create_engine(url, future=True)
    try:
        return _meta(engine)
    finally:
        engine.dispose()


def _recreate(backend: str, url: str) -> None:
    if backend == "sqlite":
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    admin = create_engine(_pg_admin_url(), future=True, isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                           {"n": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


# --- generating data -------------------------------------------------------------------------------

PRICE_COLUMNS = ("created_at", "updated_at", "updated_by", "product_id", "market_id", "report_date", "min_price",
                 "avg_price", "max_price", "entered_unit", "entered_min", "entered_avg", "entered_max", "source",
                 "confidence", "note", "entered_by")
# Dropped while loading and rebuilt afterwards: building an index once is far faster than
# maintaining it through ten million inserts.
SECONDARY_INDEXES = {
    "ix_price_record_product_date": "price_record (product_id, report_date)",
    "ix_price_record_market_product_date": "price_record (market_id, product_id, report_date)",
}


def _add_products_and_markets(factory: sessionmaker, size: Dict[str, int], rng: random.Random) -> None:
    with session_scope(factory) as session:
        categories = ["蔬菜", "水果", "粮油", "肉禽蛋", "水产"]
        session.execute(insert(Product.__table__), [
            {"name": f"测试品种{number:04d}", "category": rng.choice(categories), "unit": "元/公斤",
             "updated_by": "bench"}
            for number in range(1, size["products"] + 1)
        ])
        # Markets spread over every province, city and county of the seed, like the 300 markets
        # of the national wholesale price system.
        regions = session.scalars(select(Region).where(Region.parent_id.is_not(None)).order_by(Region.id)).all()
        session.execute(insert(Market.__table__), [
            {"name": f"{regions[number % len(regions)].name}第{number + 1}批发市场",
             "region_id": regions[number % len(regions)].id, "kind": "批发市场", "updated_by": "bench"}
            for number in range(size["markets"])
        ])


def _price_rows(product_ids: List[int], market_ids: List[int], days: List[dt.date], stamp: str,
                rng: random.Random) -> Iterator[tuple]:
    for product_id in product_ids:
        base = rng.uniform(1.0, 60.0)
        for market_id in market_ids:
            level = base * rng.uniform(0.8, 1.2)
            for day in days:
                level *= rng.uniform(0.97, 1.03)
                avg = round(level, 2)
                low, high = round(avg * 0.93, 2), round(avg * 1.07, 2)
                yield (stamp, stamp, "bench", product_id, market_id, day, low, avg, high, "元/公斤", low, avg, high,
                       SOURCE, "V", None, "bench")


def _load_prices_sqlite(engine: Engine, rows: Iterator[tuple]) -> int:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        # A throwaway database: durability does not matter while loading.
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1000000")
        for name in SECONDARY_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        statement = (f"INSERT INTO price_record ({', '.join(PRICE_COLUMNS)}) "  # noqa: S608 (constant names)
                     f"VALUES ({', '.join('?' for _ in PRICE_COLUMNS)})")
        count = 0
        batch: List[tuple] = []
        for row in rows:
            batch.append((*row[:5], row[5].isoformat(), *row[6:]))
            if len(batch) == 100_000:
                cursor.executemany(statement, batch)
                count += len(batch)
                batch = []
        cursor.executemany(statement, batch)
        count += len(batch)
        connection.commit()
        for name, target in SECONDARY_INDEXES.items():
            cursor.execute(f"CREATE INDEX {name} ON {target}")
        cursor.execute("ANALYZE")
        connection.commit()
        return count
    finally:
        connection.close()


class _CopyStream(io.TextIOBase):
    """A file-like view of generated rows in COPY text format, read by psycopg2's copy_expert."""

    def __init__(self, rows: Iterator[tuple]) -> None:
        self.rows = rows
        self.buffer = ""
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self.buffer) < size:
            chunk = []
            for row in self.rows:
                chunk.append("\t".join(r"\N" if value is None else str(value) for value in row))
                if len(chunk) == 10_000:
                    break
            if not chunk:
                break
            self.count += len(chunk)
            self.buffer += "\n".join(chunk) + "\n"
        if size < 0:
            size = len(self.buffer)
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out


def _load_prices_postgresql(engine: Engine, rows: Iterator[tuple]) -> int:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("ALTER TABLE price_record DROP CONSTRAINT uq_price_record_natural")
        for name in SECONDARY_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        stream = _CopyStream(rows)
        cursor.copy_expert(f"COPY price_record ({', '.join(PRICE_COLUMNS)}) FROM STDIN", stream, size=1 << 20)
        cursor.execute("ALTER TABLE price_record ADD CONSTRAINT uq_price_record_natural "
                       "UNIQUE (product_id, market_id, report_date, source)")
        for name, target in SECONDARY_INDEXES.items():
            cursor.execute(f"CREATE INDEX {name} ON {target}")
        connection.commit()
    finally:
        connection.close()
    # VACUUM cannot run inside a transaction; the pool restores the isolation level afterwards.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        autocommit.execute(text("VACUUM ANALYZE"))
    return stream.count


ARTICLE_TOPICS = ["耕地地力保护补贴", "最低收购价", "农机购置与应用补贴", "玉米大豆生产者补贴",
                  "完全成本保险和种植收入保险", "二轮延包", "城乡居民养老保险", "城乡居民医保", "高标准农田建设",
                  "耕地轮作休耕", "家庭农场扶持",
                  "农村危房改造", "产业振兴项目", "农业技术推广", "动物防疫", "农产品质量安全", "农村电商",
                  "雨露计划", "小额信贷", "生态护林员"]
# What farmers ask about any topic; each article answers one of these for one topic. Generic
# closing phrases repeat across the whole knowledge base, as they do in real notices.
ASPECTS = ["补贴标准是多少", "怎么申请", "什么时候发放", "需要哪些材料", "哪些人可以享受", "办理流程", "钱打到哪个账户",
           "有没有数量限制"]
GENERIC = ["具体以当地公示为准", "可以到乡镇便民服务中心咨询", "村委会会统一通知", "也可以在手机上办理"]
# Bump when the article generator changes: the next run regenerates the articles only.
ARTICLE_GENERATOR_VERSION = 2


def _article_rows(count: int, region_ids: List[int], product_names: List[str], rng: random.Random) -> List[dict]:
    rows = []
    for number in range(count):
        topic = ARTICLE_TOPICS[number % len(ARTICLE_TOPICS)]
        product = rng.choice(product_names)
        aspect, other = rng.sample(ASPECTS, 2)
        rows.append({
            "category": "pension" if "养老" in topic else "medical" if "医" in topic else "policy",
            "topic": topic,
            "title": f"{product}{topic}{aspect}（第{number + 1}号）",
            "questions": f"{topic}{aspect}\n{product}{topic}{other}",
            "answer": f"{product}的{topic}{aspect}：按本地{topic}实施方案执行，{rng.choice(GENERIC)}。"
                      f"{other}请看本地方案，{rng.choice(GENERIC)}。",
            # A fifth of the articles are written for one region, as local notes by officers are.
            "region_id": rng.choice(region_ids) if number % 5 == 0 else None,
            "source": "基准测试文章", "confidence": "V", "status": "published" if number % 10 else "draft",
            "published_on": dt.date(2025, 1, 1) + dt.timedelta(days=number % 300), "updated_by": "bench",
        })
    return rows


def load_articles(engine: Engine, size: Dict[str, int], rng: random.Random) -> float:
    """(Re)generate the benchmark articles and index them; returns the seconds it took."""
    started = time.perf_counter()
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.execute(text("DELETE FROM article WHERE updated_by = 'bench'"))
        region_ids = list(session.scalars(select(Region.id).where(Region.parent_id.is_not(None))))
        product_names = list(session.scalars(select(Product.name)))
        session.execute(insert(Article.__table__), _article_rows(size["articles"], region_ids, product_names, rng))
        rebuild_search_index(session)
    if engine.dialect.name == "postgresql":
        # Reclaim the rows the reload deleted (autovacuum would, later) and refresh the statistics
        # the planner and the search's common-term list read.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE article"))
            connection.execute(text("VACUUM ANALYZE article_fts"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return round(time.perf_counter() - started, 1)


def generate(backend: str, url: str, size: Dict[str, int], today: dt.date) -> Dict[str, Any]:
    """Create the benchmark database: schema, seed, products, markets, prices and articles."""
    rng = random.Random(SEED)
    _recreate(backend, url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    timings: Dict[str, Any] = {}
    try:
        started = time.perf_counter()
        migrate.upgrade(engine)
        with session_scope(factory) as session:
            seed(session, today=today)
        _add_products_and_markets(factory, size, rng)
        with session_scope(factory) as session:
            product_ids = list(session.scalars(select(Product.id).where(Product.updated_by == "bench")
                                              .order_by(Product.id)))
            market_ids = list(session.scalars(select(Market.id).where(Market.name.like("%批发市场"),
                                                                      Market.updated_by == "bench")
                                              .order_by(Market.id)))
        days = [today - dt.timedelta(days=offset) for offset in range(size["days"], 0, -1)]
        stamp = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        rows = _price_rows(product_ids, market_ids, days, stamp, rng)
        load_started = time.perf_counter()
        loader = _load_prices_sqlite if backend == "sqlite" else _load_prices_postgresql
        count = loader(engine, rows)
        timings["price_rows"] = count
        timings["price_load_seconds"] = round(time.perf_counter() - load_started, 1)

        timings["articles"] = size["articles"]
        timings["article_load_and_index_seconds"] = load_articles(engine, size, rng)
        timings["article_generator"] = ARTICLE_GENERATOR_VERSION
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE bench_meta (key VARCHAR(32) PRIMARY KEY, value TEXT)"))
            meta = {"size": size, "today": today.isoformat(), **timings}
            connection.execute(text("INSERT INTO bench_meta VALUES ('generated', :v)"), {"v": json.dumps(meta)})
        timings["generate_seconds"] = round(time.perf_counter() - started, 1)
        return timings
    finally:
        engine.dispose()


# --- measuring ---------------------------------------------------------------------------------------

FARMER_QUESTIONS = ["粮补什么时候发", "种粮补贴一亩多少钱", "小麦保护价今年多少", "新农合一年交多少钱",
                    "老年金交多少年能领", "农机补贴咋申请", "大豆补贴一亩多少", "土地延包会不会重新分地",
                    "异地就医怎么备案",
                    "养老保险交500每月领多少", "玉米最低收购价", "雨露计划怎么申请", "小额信贷利息多少",
                    "高标准农田建设补贴", "医保大病能报多少", "种地遭灾保险咋理赔", "报废旧农机给多少钱",
                    "生态护林员一个月多少钱", "危房改造补贴标准", "家庭农场有啥扶持"]


def _write_import_file(path: Path, factory: sessionmaker, rows: int, today: dt.date, rng: random.Random) -> None:
    with session_scope(factory) as session:
        products = list(session.scalars(select(Product.name)))
        markets = list(session.execute(
            select(Market.name, Region.name).join(Region, Region.id == Market.region_id)
            .where(Market.updated_by == "bench")))
    header = ["品名", "市场", "地区", "最低价", "平均价", "最高价", "单位", "发布日期", "来源"]
    keys = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        written = 0
        while written < rows:
            product, (market, region) = rng.choice(products), rng.choice(markets)
            # About one row in ten repeats a stored (product, market, date, source): an update in place.
            day = today - dt.timedelta(days=1) if written % 10 == 0 else today
            if (product, market, day) in keys:
                continue
            keys.add((product, market, day))
            avg = round(rng.uniform(1, 30), 2)
            unit = "元/斤" if written % 2 else "元/公斤"
            writer.writerow([product, market, region, round(avg * 0.95, 2), avg, round(avg * 1.05, 2), unit,
                             day.isoformat(), SOURCE])
            written += 1


def measure(backend: str, url: str, size: Dict[str, int], today: dt.date) -> Dict[str, Any]:
    """Time the queries and the import against the generated database."""
    rng = random.Random(SEED + 1)
    queries = int(os.environ.get("BENCH_QUERIES", "300"))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    result: Dict[str, Any] = {}
    try:
        with session_scope(factory) as session:
            products = list(session.scalars(select(Product.name).where(Product.name.like("测试品种%"))))
            regions = list(session.scalars(select(Region.name).where(Region.parent_id.is_not(None))))
            aliases = topic_aliases(session)
        asks = [(rng.choice(products), rng.choice(regions + [None])) for _ in range(queries)]
        result["latest_price_ms"] = time_calls(
            factory, [lambda s, p=p, r=r: latest_price(s, p, r, today=today) for p, r in asks])
        logger.info("%s latest_price %s", backend, result["latest_price_ms"])
        result["trend_30d_ms"] = time_calls(
            factory, [lambda s, p=p, r=r: price_trend(s, p, r, days=30, today=today) for p, r in asks])
        logger.info("%s trend %s", backend, result["trend_30d_ms"])
        result["compare_markets_ms"] = time_calls(
            factory, [lambda s, p=p, r=r: compare_markets(s, p, r, today=today) for p, r in asks[:100]])
        searches = [(rng.choice(FARMER_QUESTIONS), rng.choice(regions + [None])) for _ in range(queries)]
        result["article_search_ms"] = time_calls(
            factory, [lambda s, q=q, r=r: search_articles(s, q, region=r, aliases=aliases) for q, r in searches])
        logger.info("%s search %s", backend, result["article_search_ms"])

        path = BENCH_DIR / f"import_{size['import_rows']}.csv"
        _write_import_file(path, factory, size["import_rows"], today, rng)
        started_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        started = time.perf_counter()
        with session_scope(factory) as session:
            # Random test prices: the plausibility check runs (and is timed); a factor of 1000 holds hardly any
            # (the generated series drift far from where they started) and the few outside a category's band
            # (seeded products without history) are accepted, and audited, as an officer would.
            report = import_prices(session, path, actor=IMPORT_ACTOR, today=today, outlier_factor=Decimal(1000),
                                   accept_outliers=True)
        elapsed = time.perf_counter() - started
        if not report.ok:
            raise RuntimeError(f"benchmark import refused: {[str(p) for p in report.problems[:5]]}")
        result["import"] = {"rows": report.rows, "created": report.created, "updated": report.updated,
                            "seconds": round(elapsed, 2)}
        logger.info("%s import %s", backend, result["import"])
        # Put the database back as generated so the next run measures the same thing.
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM price_record WHERE created_at >= :t"), {"t": started_at})
            connection.execute(text("DELETE FROM audit_log WHERE at >= :t"), {"t": started_at})
            connection.execute(text("DELETE FROM import_batch_record WHERE batch_id IN "
                                    "(SELECT id FROM import_batch WHERE created_at >= :t)"), {"t": started_at})
            connection.execute(text("DELETE FROM import_batch WHERE created_at >= :t"), {"t": started_at})
    finally:
        engine.dispose()
    result["targets_met"] = {
        "latest_price_p95_ms": result["latest_price_ms"]["p95"] <= TARGETS["latest_price_p95_ms"],
        "trend_30d_p95_ms": result["trend_30d_ms"]["p95"] <= TARGETS["trend_30d_p95_ms"],
        "article_search_p95_ms": result["article_search_ms"]["p95"] <= TARGETS["article_search_p95_ms"],
        "import_100k_seconds": result["import"]["seconds"] <= TARGETS["import_100k_seconds"] * size["import_rows"]
        / FULL["import_rows"],
    }
    return result


def run_backend(backend: str, size: Dict[str, int]) -> Dict[str, Any]:
    """Generate (or reuse) the data for one backend and measure it."""
    url = database_url(backend, size)
    meta = _existing_meta(backend, url)
    result: Dict[str, Any] = {"database": make_url(url).render_as_string(hide_password=True)}
    rebuild = os.environ.get("BENCH_REBUILD", "") in ("1", "true", "yes")
    if meta is None or rebuild or meta.get("size") != size:
        today = dt.date.today()
        logger.warning("Generating %s benchmark data %s (takes minutes at full scale)", backend, size)
        result["generated"] = generate(backend, url, size, today)
    else:
        today = dt.date.fromisoformat(meta["today"])
        # Data generated before a newer migration (an index, say) gets it now, and articles made by
        # an older generator are made again (prices are kept: they take minutes).
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            if meta.get("article_generator") != ARTICLE_GENERATOR_VERSION:
                meta["article_load_and_index_seconds"] = load_articles(engine, size, random.Random(SEED))
                meta["article_generator"] = ARTICLE_GENERATOR_VERSION
                with engine.begin() as connection:
                    connection.execute(text("UPDATE bench_meta SET value = :v WHERE key = 'generated'"),
                                       {"v": json.dumps(meta)})
        finally:
            engine.dispose()
        result["generated"] = {**{k: v for k, v in meta.items() if k != "size"}, "reused": True}
    result.update(measure(backend, url, size, today))
    return result


def _postgres_reachable() -> Optional[str]:
    try:
        engine = create_engine(_pg_admin_url(), future=True)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any driver or network error: report it instead of the figures
        return str(error).splitlines()[0]


def main() -> Dict[str, Any]:
    """Run the knowledge benchmark on every configured backend and return the report."""
    scale = _scale()
    size = sizes(scale)
    backends = [b.strip() for b in os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
    report: Dict[str, Any] = {"scale": scale, "size": size, "targets": TARGETS}
    for backend in backends:
        if backend == "postgresql":
            problem = _postgres_reachable()
            if problem:
                report[backend] = {"skipped": f"PostgreSQL not reachable: {problem}"}
                continue
        report[backend] = run_backend(backend, size)
    # The report is "ok" only when every measured backend met every target (python -m bench then exits 1).
    report["ok"] = all(all(report[b]["targets_met"].values()) for b in backends if "targets_met" in report[b])
    return report


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    print(json.dumps(main(), ensure_ascii=False, indent=2))
