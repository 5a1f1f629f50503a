"""Command line of the knowledge base: python -m knowledge <command> …"""
from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import logging
import os
import sys
import zoneinfo
from pathlib import Path
from typing import Callable, Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from knowledge import migrate
from knowledge.articles.search import ensure_search_index, rebuild_search_index
from knowledge.audit import record_change
from knowledge.catalog.dictionary import export_dictionary
from knowledge.conversations.tracker_indexes import add_tracker_indexes
from knowledge.db import KnowledgeStore, make_engine, make_session_factory, session_scope
from knowledge.feeds.fetching import FeedPolicy
from knowledge.feeds.runner import run_due_feeds
from knowledge.files.articles import export_articles, import_articles
from knowledge.files.prices import export_prices, import_prices
from knowledge.files.tables import ImportFileError, ImportReport
from knowledge.models import Account, Article, Market, PriceRecord, Product, Region, Role
from knowledge.people.accounts import AccountError, create_account
from knowledge.prices.batches import undo_batch
from knowledge.privacy.forgetting import erase_pending_conversations
from knowledge.privacy.retention import run_retention
from knowledge.privacy.tracker_writer import TrackerWriter
from knowledge.seed import seed
from logs import configure_logging
from settings import VAR_DIR, load_settings

logger = logging.getLogger("knowledge")

# Exit codes: 1 the file has bad rows (nothing written), 2 the file cannot be read at all.
EXIT_BAD_ROWS = 1
EXIT_UNREADABLE = 2
# Every row is valid but some prices are implausible: nothing written until --accept-outliers.
EXIT_OUTLIERS = 3
EXIT_INTERRUPTED = 130


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def cmd_migrate(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Bring the schema to the newest migration (and fill the article search index if it is behind)."""
    migrate.upgrade(factory.kw["bind"])
    with session_scope(factory) as session:
        indexed = ensure_search_index(session)
    print("知识库结构已是最新 (migrated to head)" + (f"，重建搜索索引 {indexed} 篇" if indexed else ""))
    return 0


def cmd_seed(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Add the shipped seed data that is missing."""
    with session_scope(factory) as session:
        report = seed(session)
    print(f"种子数据已就绪 (seed: {report})")
    return 0


def cmd_stats(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Print row counts and the newest price date."""
    with session_scope(factory) as session:
        counts = {
            "产品 products": session.scalar(select(func.count(Product.id))),
            "地区 regions": session.scalar(select(func.count(Region.id))),
            "市场 markets": session.scalar(select(func.count(Market.id))),
            "价格 prices": session.scalar(select(func.count(PriceRecord.id))),
            "文章 articles": session.scalar(select(func.count(Article.id))),
            "账号 accounts": session.scalar(select(func.count(Account.id))),
        }
        newest = session.scalar(select(func.max(PriceRecord.report_date)))
    for label, count in counts.items():
        print(f"{label}: {count}")
    print(f"最新价格日期 newest price: {newest or '无'}")
    return 0


def cmd_export_dictionary(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Regenerate the jieba dictionary and NLU lookups from the KB."""
    with session_scope(factory) as session:
        written = export_dictionary(session)
    print(f"词典已生成，{len(written)} 个文件有变化 (dictionary: {len(written)} files changed)")
    return 0


def _run_import(
    factory: sessionmaker, path: Path, actor: str, importer: Callable[..., ImportReport], what: str
) -> int:
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return EXIT_UNREADABLE
    session = factory()
    try:
        report = importer(session, path, actor)
        if report.held and not report.problems:
            session.rollback()
            print(f"导入暂停：{path.name} 有 {len(report.held)} 行价格和近期行情差得太远，没有写入任何数据。"
                  "请核对这些行；确认没错时加上 --accept-outliers 重新导入：", file=sys.stderr)
            for problem in report.held:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_OUTLIERS
        if not report.ok:
            session.rollback()
            bad = len(report.problems)
            print(f"导入失败：{path.name} 有 {bad} 行有问题，没有写入任何数据。请改好后重新导入：", file=sys.stderr)
            for problem in report.problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_BAD_ROWS
        session.commit()
    except ImportFileError as error:
        session.rollback()
        print(f"导入失败：{error}。没有写入任何数据。", file=sys.stderr)
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        session.rollback()
        print("导入已中断，没有写入任何数据。", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    extra = f"，新建市场 {len(report.new_markets)} 个：{'、'.join(report.new_markets)}" if report.new_markets else ""
    batch = f"（批次 #{report.batch_id}，可用 undo-import {report.batch_id} 整批撤销）" if report.batch_id else ""
    print(f"导入成功：{what} {report.rows} 行，新增 {report.created}，更新 {report.updated}{extra}。{batch}")
    return 0


def cmd_import_prices(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Import prices from CSV (UTF-8/GBK) or .xlsx, all or nothing."""
    importer = functools.partial(import_prices, accept_outliers=args.accept_outliers)
    return _run_import(factory, Path(args.file), args.actor, importer, "价格")


def cmd_import_articles(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Import policy/insurance articles from CSV, .xlsx or YAML, all or nothing."""
    return _run_import(factory, Path(args.file), args.actor, import_articles, "文章")


def cmd_export(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Export prices and articles to CSV (UTF-8 with BOM, the import layout)."""
    out = Path(args.out)
    with session_scope(factory) as session:
        prices = export_prices(session, out / "prices.csv")
        articles = export_articles(session, out / "articles.csv")
    print(f"已导出 价格 {prices} 行 → {out / 'prices.csv'}，文章 {articles} 篇 → {out / 'articles.csv'}")
    return 0


def _read_password(args: argparse.Namespace) -> Optional[str]:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("密码 password: ")
    second = getpass.getpass("再输一次 again: ")
    if first != second:
        print("两次输入的密码不一样。", file=sys.stderr)
        return None
    return first


def cmd_create_user(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Create a console account (admin/officer/reviewer); the password is prompted for or read from stdin."""
    password = _read_password(args)
    if password is None:
        return EXIT_BAD_ROWS
    try:
        with session_scope(factory) as session:
            create_account(session, args.username, password, args.role, args.region, args.display_name, args.actor)
    except AccountError as error:
        print(f"没有创建账号：{error}", file=sys.stderr)
        return EXIT_BAD_ROWS
    print(f"账号已创建：{args.username}（{args.role}）")
    return 0


def cmd_reindex(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Rebuild the article search index from the articles."""
    with session_scope(factory) as session:
        count = rebuild_search_index(session)
    print(f"搜索索引已重建：{count} 篇已发布文章")
    return 0


def cmd_retention(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Anonymise personal data older than the retention period now, and forgotten farmers' conversations."""
    settings = load_settings()
    days = args.days or settings.personal_data_retention_days
    store = KnowledgeStore(factory)
    tracker = TrackerWriter(args.tracker_db or settings.tracker_db_url)
    try:
        forgotten = erase_pending_conversations(store, tracker)
        report = run_retention(store, tracker, days)
    finally:
        tracker.close()
    print(f"已匿名化 {days} 天以前的个人信息：对话事件 {report.events} 条，工单 {report.tickets} 个，"
          f"推送 {report.pushes} 条，附件 {report.attachments} 个，农户称呼 {report.farmers} 个，"
          f"评价留言 {report.feedback} 条；另有 {forgotten} 位要求删除记录的农户的对话已匿名化。")
    return 0


def cmd_undo_import(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Undo an imported price batch as a whole (its number is printed by import-prices and shown in the console)."""
    session = factory()
    try:
        report = undo_batch(session, args.batch, args.actor)
        if not report.ok:
            session.rollback()
            print(f"没有撤销批次 #{args.batch}，什么都没有改：", file=sys.stderr)
            for problem in report.problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_BAD_ROWS
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    print(f"已撤销批次 #{args.batch}：删除新增的 {report.removed} 条，恢复被覆盖的 {report.restored} 条。")
    return 0


def cmd_run_feeds(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Run the price feeds that are due now, once (for cron when PUSH_INTERVAL_SECONDS=0 keeps the gateway's off)."""
    settings = load_settings()
    timezone = zoneinfo.ZoneInfo(settings.timezone)
    reports = asyncio.run(run_due_feeds(KnowledgeStore(factory), FeedPolicy.from_settings(settings), timezone,
                                        f"cli:{os.getpid()}"))
    for report in reports:
        shown = {"ok": "已导入", "unchanged": "没有新文件", "failed": "失败，没有写入任何数据"}[report.outcome]
        print(f"价格源“{report.feed_name}”{report.file_name or ''}：{shown}")
        for reason in report.reasons:
            print(f"  {reason}")
    return EXIT_BAD_ROWS if any(report.outcome == "failed" for report in reports) else 0


def cmd_market_scope(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Say what a market's price stands for: national (answered as 全国), regional (its region's average) or local."""
    with session_scope(factory) as session:
        market = session.scalars(select(Market).where(Market.name == args.market)).first()
        if market is None:
            print(f"没有叫“{args.market}”的市场（要写全名）。", file=sys.stderr)
            return EXIT_BAD_ROWS
        before = market.scope
        market.scope = args.scope
        market.updated_by = args.actor
        record_change(session, args.actor, "update", "market", market.id, {"scope": before}, {"scope": args.scope})
    print(f"已设置：{args.market} 的价格为 {SCOPE_NAMES[args.scope]}（原来是 {SCOPE_NAMES[before]}）。")
    return 0


SCOPE_NAMES = {"national": "全国数据", "regional": "所在地区的平均", "local": "一个本地市场"}


def cmd_tracker_indexes(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Index Rasa's tracker store for the console's queries (once; needs CREATE on Rasa's events table)."""
    added = add_tracker_indexes(args.tracker_db or load_settings().tracker_db_url)
    print(f"对话库索引：新建 {len(added)} 个" + (f"（{'、'.join(added)}）" if added else ""))
    return 0


def _positive_days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return days


COMMANDS: Dict[str, Callable[[argparse.Namespace, sessionmaker], int]] = {
    "migrate": cmd_migrate,
    "seed": cmd_seed,
    "stats": cmd_stats,
    "export-dictionary": cmd_export_dictionary,
    "import-prices": cmd_import_prices,
    "import-articles": cmd_import_articles,
    "export": cmd_export,
    "create-user": cmd_create_user,
    "market-scope": cmd_market_scope,
    "reindex": cmd_reindex,
    "retention": cmd_retention,
    "undo-import": cmd_undo_import,
    "run-feeds": cmd_run_feeds,
    "tracker-indexes": cmd_tracker_indexes,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per knowledge-base task."""
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="乡信 knowledge base")
    parser.add_argument("--db", help="database URL (default: KNOWLEDGE_DB_URL or var/knowledge.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    sub = {name: commands.add_parser(name, help=(handler.__doc__ or "").strip()) for name, handler in COMMANDS.items()}
    actor_help = "who is importing, for the audit log (default: cli:<login name>)"
    for name in ("import-prices", "import-articles"):
        sub[name].add_argument("file", help="CSV, .xlsx" + (" or YAML" if name == "import-articles" else ""))
        sub[name].add_argument("--actor", default=_default_actor(), help=actor_help)
    sub["import-prices"].add_argument(
        "--accept-outliers", action="store_true",
        help="write rows whose price is far from the product's recent median (they are audited)")
    sub["export"].add_argument("--out", default=str(VAR_DIR / "export"), help="folder for prices.csv and articles.csv")
    scope = sub["market-scope"]
    scope.add_argument("market", help="the market's full name")
    scope.add_argument("scope", choices=list(Market.SCOPES))
    scope.add_argument("--actor", default=_default_actor(), help=actor_help)
    user = sub["create-user"]
    user.add_argument("username")
    user.add_argument("--role", required=True, choices=[role.value for role in Role])
    user.add_argument("--region", help="region the account looks after (required for officers)")
    user.add_argument("--display-name")
    user.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    user.add_argument("--actor", default=_default_actor(), help=actor_help)
    sub["undo-import"].add_argument("batch", type=int, help="the batch number")
    sub["undo-import"].add_argument("--actor", default=_default_actor(), help="who is undoing, for the audit log")
    retention = sub["retention"]
    retention.add_argument("--days", type=_positive_days,
                           help="anonymise what is older than this (default: PERSONAL_DATA_RETENTION_DAYS)")
    retention.add_argument("--tracker-db", help="Rasa's tracker store (default: TRACKER_DB_URL)")
    sub["tracker-indexes"].add_argument("--tracker-db", help="Rasa's tracker store (default: TRACKER_DB_URL)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of python -m knowledge."""
    configure_logging(load_settings())
    args = build_parser().parse_args(argv)
    engine = make_engine(args.db)
    try:
        return COMMANDS[args.command](args, make_session_factory(engine))
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
