"""The console's aiohttp app: server-rendered, phone-friendly pages for officers, reviewers and admins."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import AsyncIterator, Callable, Optional

import aiohttp
import aiohttp_jinja2
import aiohttp_session
from aiohttp import web

from console.context import CONTEXT_KEY, ConsoleContext
from console.metrics import ConsoleMetrics
from console.nlu_export import load_domain_names
from console.password_checks import PasswordCheckGate
from console.security import (
    TRUSTED_PROXIES_KEY,
    CsrfRejected,
    Forbidden,
    csrf_middleware,
    security_headers,
    session_storage,
    user_middleware,
)
from console.telegram_files import TelegramFiles
from console.templating import setup_templates, template_context, template_context_middleware
from console.uploads import MAX_UPLOAD_BYTES
from console.views import (
    accounts,
    articles,
    audit,
    auth,
    conversations,
    dashboard,
    feeds,
    handoff,
    handoff_attachments,
    imports,
    needs_update,
    prices,
    privacy,
)
from knowledge.conversations.tracker import TrackerReader
from knowledge.db import make_engine, make_session_factory
from knowledge.feeds.fetching import FeedPolicy
from knowledge.local_time import local_today
from knowledge.people.login import LoginLimits
from logs import configure_logging
from metrics import metrics_handler
from settings import PROJECT_ROOT, Settings, load_settings

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


async def _error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    if aiohttp_jinja2.REQUEST_CONTEXT_KEY not in request:  # refused before the template values were set
        request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = await template_context(request)
    return aiohttp_jinja2.render_template("error.html", request, {"title": title, "message": message}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Plain-Chinese pages for 403, 404 and unexpected errors; the details go to the log only."""
    try:
        return await handler(request)
    except (Forbidden, CsrfRejected) as error:
        return await _error_page(request, 403, "没有权限", error.message)
    except web.HTTPForbidden:
        return await _error_page(request, 403, "没有权限", "您的账号不能做这个操作。")
    except web.HTTPNotFound as error:
        text = error.text if error.text and not error.text.startswith("404") else "找不到这个页面。"
        return await _error_page(request, 404, "找不到", text)
    except web.HTTPBadRequest as error:
        return await _error_page(request, 400, "请求有误", error.text or "请求有误。")
    except web.HTTPRequestEntityTooLarge:
        return await _error_page(request, 413, "文件太大", f"上传的文件最多 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。")
    except web.HTTPException:
        raise
    except Exception:
        logger.exception("Unexpected error on %s %s", request.method, request.path)
        return await _error_page(request, 500, "出错了", "系统出了点问题，已记录下来。请稍后再试，或联系管理员。")


def add_routes(app: web.Application) -> None:
    """Every route of the console, named."""
    r = app.router
    r.add_get("/healthz", dashboard.health, name="health")
    r.add_get("/login", auth.login_page, name="login")
    r.add_post("/login", auth.login_submit)
    r.add_post("/logout", auth.logout, name="logout")
    r.add_get("/", dashboard.dashboard_page, name="dashboard")
    r.add_get("/account/password", auth.password_page, name="password")
    r.add_post("/account/password", auth.password_submit)

    r.add_get("/prices", prices.price_list, name="prices")
    r.add_get("/prices/new", prices.price_new, name="price_new")
    r.add_post("/prices", prices.price_create, name="price_create")
    r.add_get("/prices/{record_id:\\d+}/edit", prices.price_edit, name="price_edit")
    r.add_post("/prices/{record_id:\\d+}", prices.price_update, name="price_update")
    r.add_post("/prices/{record_id:\\d+}/delete", prices.price_delete, name="price_delete")

    r.add_get("/articles", articles.article_list, name="articles")
    r.add_get("/articles/new", articles.article_new, name="article_new")
    r.add_post("/articles", articles.article_create, name="article_create")
    r.add_get("/articles/{article_id:\\d+}", articles.article_view, name="article")
    r.add_get("/articles/{article_id:\\d+}/edit", articles.article_edit, name="article_edit")
    r.add_post("/articles/{article_id:\\d+}", articles.article_update, name="article_update")
    r.add_post("/articles/{article_id:\\d+}/delete", articles.article_delete, name="article_delete")

    r.add_get("/imports", imports.import_page, name="imports")
    r.add_post("/imports/preview", imports.import_preview, name="import_preview")
    r.add_post("/imports/confirm", imports.import_confirm, name="import_confirm")
    r.add_post("/imports/cancel", imports.import_cancel, name="import_cancel")

    r.add_get("/imports/batches", feeds.batch_list, name="import_batches")
    r.add_post("/imports/batches/{batch_id:\\d+}/undo", feeds.batch_undo, name="import_batch_undo")

    r.add_get("/feeds", feeds.feed_list, name="feeds")
    r.add_post("/feeds", feeds.feed_create, name="feed_create")
    r.add_get("/feeds/{feed_id:\\d+}", feeds.feed_page, name="feed")
    r.add_post("/feeds/{feed_id:\\d+}", feeds.feed_update, name="feed_update")
    r.add_post("/feeds/{feed_id:\\d+}/run", feeds.feed_run_now, name="feed_run")

    r.add_get("/audit", audit.audit_list, name="audit")
    r.add_get("/needs-update", needs_update.needs_update_page, name="needs_update")

    r.add_get("/accounts", accounts.account_list, name="accounts")
    r.add_post("/accounts", accounts.account_create, name="account_create")
    r.add_post("/accounts/{account_id:\\d+}/active", accounts.account_set_active, name="account_active")
    r.add_post("/accounts/{account_id:\\d+}/unlock", accounts.account_unlock, name="account_unlock")
    r.add_get("/accounts/{account_id:\\d+}/telegram", accounts.account_telegram, name="account_telegram")
    r.add_post("/accounts/{account_id:\\d+}/telegram", accounts.account_telegram)
    r.add_get("/account/telegram", accounts.own_telegram, name="own_telegram")
    r.add_post("/account/telegram", accounts.own_telegram)

    r.add_get("/conversations", conversations.conversation_list, name="conversations")
    r.add_get("/conversations/{sender_id:[^/]+}", conversations.conversation_view, name="conversation")
    r.add_post("/conversations/{sender_id:[^/]+}/review", conversations.conversation_review, name="review")
    r.add_post("/conversations/{sender_id:[^/]+}/messages/{event_id:\\d+}", conversations.message_correct,
               name="correct")
    r.add_get("/training-data", conversations.training_data_page, name="training_data")
    r.add_get("/training-data/nlu.yml", conversations.training_data_download, name="training_data_download")

    r.add_get("/handoff", handoff.handoff_inbox, name="handoff")
    r.add_get("/handoff/{ticket_id:\\d+}", handoff.ticket_view, name="ticket")
    r.add_post("/handoff/{ticket_id:\\d+}/answer", handoff.ticket_answer, name="ticket_answer")
    r.add_get("/handoff/{ticket_id:\\d+}/attachments/{attachment_id:\\d+}", handoff_attachments.ticket_attachment,
              name="ticket_attachment")

    r.add_get("/privacy/forget", privacy.forget_page, name="forget_farmer")
    r.add_post("/privacy/forget/preview", privacy.forget_preview, name="forget_farmer_preview")
    r.add_post("/privacy/forget/confirm", privacy.forget_confirm, name="forget_farmer_confirm")

    r.add_static("/static/", STATIC_DIR, name="static", append_version=True)


def create_app(
    settings: Optional[Settings] = None,
    *,
    nlu_dir: Optional[Path] = None,
    today: Optional[Callable[[], dt.date]] = None,
) -> web.Application:
    """The console app; the knowledge DB engine and the tracker reader open and close with it."""
    settings = settings or load_settings()
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 64 * 1024)
    app[TRUSTED_PROXIES_KEY] = settings.console_proxies
    # aiohttp 3.9 types on_response_prepare's items as taking a handler, not (request, response).
    app.on_response_prepare.append(security_headers)  # type: ignore[arg-type]
    aiohttp_session.setup(app, session_storage(settings.console_secret_key, settings.console_secure_cookies))
    setup_templates(app)
    console_metrics = ConsoleMetrics(lambda: app[CONTEXT_KEY].sessions, today or dt.date.today)
    app.middlewares.extend([
        console_metrics.middleware(),
        error_middleware, user_middleware(lambda app: app[CONTEXT_KEY].sessions), template_context_middleware,
        csrf_middleware,
    ])

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine = make_engine(settings.knowledge_db_url)
        tracker = TrackerReader(settings.tracker_db_url)
        # Only with a bot token can officers open farmers' voice messages and photos here.
        http = aiohttp.ClientSession() if settings.telegram_bot_token else None
        files = TelegramFiles(http, settings.telegram_bot_token, settings.telegram_api_base_url) if http else None
        app[CONTEXT_KEY] = ConsoleContext(
            sessions=make_session_factory(engine),
            tracker=tracker,
            nlu_dir=nlu_dir or PROJECT_ROOT / "data" / "nlu",
            domain=load_domain_names(PROJECT_ROOT / "domain.yml"),
            upload_dir=settings.upload_dir,
            today=today or local_today,
            password_checks=PasswordCheckGate(settings.console_password_checks, settings.console_password_check_queue),
            login_limits=LoginLimits.from_settings(settings),
            telegram_files=files,
            feed_policy=FeedPolicy.from_settings(settings),
        )
        yield
        if http is not None:
            await http.close()
        tracker.close()
        engine.dispose()

    app.cleanup_ctx.append(resources)
    add_routes(app)
    app.router.add_get("/metrics", metrics_handler(console_metrics.registry, settings.metrics_token), name="metrics")
    return app


def main() -> None:
    """Run the console until interrupted."""
    settings = load_settings()
    configure_logging(settings)
    logger.info("Console on http://%s:%d/", settings.console_host, settings.console_port)
    web.run_app(create_app(settings), host=settings.console_host, port=settings.console_port, print=None)
