"""Command line of the knowledge base: python -m knowledge <command> …"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from knowledge import migrate
from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.dictionary import export_dictionary
from knowledge.models import Account, Article, Market, PriceRecord, Product, Region
from knowledge.seed import seed
from settings import load_settings

logger = logging.getLogger("knowledge")


def cmd_migrate(args: argparse.Namespace, factory: sessionmaker) -> int:
    """Bring the schema to the newest migration."""
    migrate.upgrade(factory.kw["bind"])
    print("知识库结构已是最新 (migrated to head)")
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


COMMANDS: Dict[str, Callable[[argparse.Namespace, sessionmaker], int]] = {
    "migrate": cmd_migrate,
    "seed": cmd_seed,
    "stats": cmd_stats,
    "export-dictionary": cmd_export_dictionary,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per knowledge-base task."""
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="乡信 knowledge base")
    parser.add_argument("--db", help="database URL (default: KNOWLEDGE_DB_URL or var/knowledge.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in COMMANDS.items():
        commands.add_parser(name, help=(handler.__doc__ or "").strip())
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of python -m knowledge."""
    logging.basicConfig(level=load_settings().log_level, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    engine = make_engine(args.db)
    try:
        return COMMANDS[args.command](args, make_session_factory(engine))
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
