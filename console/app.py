"""The console's aiohttp app: server-rendered Jinja2 pages over the knowledge DB."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator, Optional

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.models import Article, Market, PriceRecord, Product
from settings import Settings, load_settings

logger = logging.getLogger(__name__)
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SESSIONS_KEY = web.AppKey("knowledge_sessions", sessionmaker)


@aiohttp_jinja2.template("status.html")
async def status_page(request: web.Request) -> dict:
    """What the knowledge base holds now, and how fresh its prices are."""
    with session_scope(request.app[SESSIONS_KEY]) as session:
        return {
            "products": session.scalar(select(func.count(Product.id))),
            "markets": session.scalar(select(func.count(Market.id))),
            "prices": session.scalar(select(func.count(PriceRecord.id))),
            "articles": session.scalar(select(func.count(Article.id)).where(Article.status == "published")),
            "newest_price": session.scalar(select(func.max(PriceRecord.report_date))),
        }


async def health(_request: web.Request) -> web.Response:
    """Readiness probe for the process runner."""
    return web.json_response({"status": "ok"})


def create_app(settings: Optional[Settings] = None) -> web.Application:
    """The console app with its knowledge DB engine opened and closed alongside."""
    settings = settings or load_settings()
    app = web.Application()
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=jinja2.select_autoescape(["html"])
    )

    async def knowledge_db(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(settings.knowledge_db_url)
        app[SESSIONS_KEY] = make_session_factory(engine)
        yield
        engine.dispose()

    app.cleanup_ctx.append(knowledge_db)
    app.router.add_get("/", status_page, name="status")
    app.router.add_get("/healthz", health, name="health")
    return app


def main() -> None:
    """Run the console until interrupted."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.info("Console on http://%s:%d/", settings.console_host, settings.console_port)
    web.run_app(create_app(settings), host=settings.console_host, port=settings.console_port, print=None)
