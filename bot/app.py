"""The gateway process: the web chat always, Telegram when a token is configured, the push, retention and price
feed schedulers."""
from __future__ import annotations

import logging
from typing import AsyncIterator, Optional

import aiohttp
from aiohttp import web

from bot.admission import Admission
from bot.conversation import Conversation, RateLimiter
from bot.deferred import DeferredAnswers, DeferredDrain
from bot.farmer_directory import FarmerDirectory
from bot.feed_scheduler import FeedScheduler
from bot.forgetting import Forgetting
from bot.metrics import GatewayMetrics
from bot.officer_chat import OfficerChat
from bot.push_scheduler import PushScheduler
from bot.rasa_client import RasaClient
from bot.retention_scheduler import RetentionScheduler
from bot.telegram_chat import TelegramChat
from bot.telegram_service import TelegramService, build_application, webhook_path
from bot.webchat import (
    CONVERSATION_KEY,
    FORGETTING_KEY,
    IDENTITY_KEY,
    METRICS_KEY,
    PAGE_KEY,
    PROXIES_KEY,
    STORE_KEY,
    add_webchat_routes,
    chat_page_html,
)
from bot.webchat_identity import WebchatIdentity
from knowledge.db import open_store
from knowledge.feeds.fetching import FeedPolicy
from knowledge.local_time import local_zone
from knowledge.privacy.tracker_writer import TrackerWriter
from logs import configure_logging
from metrics import metrics_handler
from settings import Settings, load_settings

logger = logging.getLogger(__name__)
HTTP_SESSION_KEY = web.AppKey("http_session", aiohttp.ClientSession)
TELEGRAM_KEY = web.AppKey("telegram", TelegramService)
SCHEDULER_KEY = web.AppKey("push_scheduler", PushScheduler)
RETENTION_KEY = web.AppKey("retention_scheduler", RetentionScheduler)
FEEDS_KEY = web.AppKey("feed_scheduler", FeedScheduler)
DRAIN_KEY = web.AppKey("deferred_drain", DeferredDrain)
DEFERRED_KEY = web.AppKey("deferred_answers", DeferredAnswers)


def telegram_allowed(settings: Settings) -> bool:
    """Whether the gateway may start Telegram: a token, and in webhook mode a secret to check callers by."""
    if not settings.telegram_bot_token:
        return False
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        # Without the secret anyone who finds the webhook path could post updates as any farmer or officer
        # (officers' /setprice included), so the gateway refuses rather than warns.
        logger.error(
            "Telegram is off: webhook mode (TELEGRAM_WEBHOOK_URL) needs TELEGRAM_WEBHOOK_SECRET, without which anyone "
            "could post fake updates; set TELEGRAM_WEBHOOK_SECRET to a random string (up to 256 of A-Z a-z 0-9 _ -), "
            "or unset TELEGRAM_WEBHOOK_URL to long-poll. The web chat is still served."
        )
        return False
    return True


def create_app(settings: Optional[Settings] = None) -> web.Application:
    """The gateway's aiohttp app; Rasa session, knowledge DB, tracker store, Telegram and the schedulers open and
    close with it."""
    settings = settings or load_settings()
    app = web.Application(client_max_size=1024 * 1024)
    with_telegram = telegram_allowed(settings)
    metrics = GatewayMetrics()
    app[METRICS_KEY] = metrics

    async def gateway(app: web.Application) -> AsyncIterator[None]:
        store = open_store(settings.knowledge_db_url)
        # Rasa's store, written only to anonymise: forgotten farmers and what is older than the retention period.
        tracker = TrackerWriter(settings.tracker_db_url)
        forgetting = Forgetting(store, tracker)
        headers = {"Authorization": f"Bearer {settings.rasa_api_token}"} if settings.rasa_api_token else {}
        async with aiohttp.ClientSession(headers=headers) as session:
            farmers = FarmerDirectory(store)
            # The client waits as long as Rasa may take; the farmer waits only RASA_TIMEOUT_SECONDS (the deadline).
            rasa = RasaClient(session, settings.rasa_url, settings.rasa_answer_timeout_seconds,
                              settings.rasa_webhook_secret)
            admission = Admission(settings.rasa_concurrency, settings.rasa_queue_limit)
            deferred = DeferredAnswers(store)
            deferred.metrics = metrics
            metrics.watch(admission)
            conversation = Conversation(
                rasa,
                farmers=farmers,
                # Generous: a village information station puts many farmers behind one address.
                address_limiter=RateLimiter(settings.webchat_messages_per_minute_per_address),
                admission=admission, deferred=deferred, deadline_seconds=settings.rasa_timeout_seconds,
            )
            conversation.metrics = metrics
            drain = DeferredDrain(deferred, store, rasa, admission)
            app[DRAIN_KEY] = drain
            app[DEFERRED_KEY] = deferred
            app[HTTP_SESSION_KEY] = session
            app[CONVERSATION_KEY] = conversation
            app[STORE_KEY] = store
            app[FORGETTING_KEY] = forgetting
            timezone = local_zone(settings.timezone)  # settings refused an unknown zone at start
            scheduler = PushScheduler(store, settings.push_interval_seconds, timezone, settings.stale_after_days,
                                      escalate_after_hours=settings.handoff_escalate_after_hours)
            scheduler.metrics = metrics
            app[SCHEDULER_KEY] = scheduler
            # A late answer in the outbox goes to Telegram at once rather than at the scheduler's next round.
            deferred.on_answered = scheduler.wake
            retention = RetentionScheduler(store, tracker, settings.personal_data_retention_days, timezone)
            app[RETENTION_KEY] = retention
            feeds = FeedScheduler(store, FeedPolicy.from_settings(settings), timezone)
            app[FEEDS_KEY] = feeds
            telegram: Optional[TelegramService] = None
            if with_telegram:
                application = build_application(
                    settings,
                    TelegramChat(conversation, farmers, store, forgetting, settings.personal_data_retention_days),
                    OfficerChat(store),
                )

                def telegram_ready() -> None:
                    # Pushes wait until Telegram is up: sent through a bot that is not, they would fail
                    # and use up their attempts (or, with a rejected token, be given up for good).
                    scheduler.bot = application.bot

                telegram = TelegramService(application, settings, on_ready=telegram_ready)
                app[TELEGRAM_KEY] = telegram
                telegram.start()
            # Always on: farmers were promised these answers, whatever PUSH_INTERVAL_SECONDS says.
            drain.start()
            if settings.push_interval_seconds > 0:
                # One switch for the gateway's background work: with it off, cron runs `python -m knowledge retention`.
                scheduler.start()
                retention.start()
                feeds.start()
            try:
                yield
            finally:
                await drain.stop()
                await scheduler.stop()
                await retention.stop()
                await feeds.stop()
                if telegram is not None:
                    await telegram.stop()
                tracker.close()
                store.dispose()

    app.cleanup_ctx.append(gateway)

    async def stop_background(app: web.Application) -> None:
        # aiohttp's run_app waits up to a minute (shutdown_timeout) for every task started after it before the
        # cleanup context runs, and these loops end only when stopped: every SIGTERM (honcho's Ctrl-C, a deploy, the
        # load bench) took that minute. Stopped first here; requests in progress and the answers the drain and late
        # messages still await get the wait.
        if DRAIN_KEY in app:
            await app[DRAIN_KEY].stop_claiming()
        if SCHEDULER_KEY in app:
            await app[SCHEDULER_KEY].stop()
        if RETENTION_KEY in app:
            await app[RETENTION_KEY].stop()
        if FEEDS_KEY in app:
            await app[FEEDS_KEY].stop()
        if TELEGRAM_KEY in app:
            await app[TELEGRAM_KEY].stop()

    # aiohttp 3.9 annotates its signals as Signal[Callable[[Application], ...]], which the installed aiosignal reads
    # as a signal of callbacks taking that callable: the annotation, not the call, is wrong.
    app.on_shutdown.append(stop_background)  # type: ignore[arg-type]
    app[IDENTITY_KEY] = WebchatIdentity(settings.webchat_secret_key)
    app[PROXIES_KEY] = settings.trusted_proxies
    app[PAGE_KEY] = chat_page_html(settings.personal_data_retention_days)
    add_webchat_routes(app)
    app.router.add_get("/metrics", metrics_handler(metrics.registry, settings.metrics_token), name="metrics")
    if with_telegram and settings.telegram_webhook_url:
        async def telegram_webhook(request: web.Request) -> web.Response:
            return await request.app[TELEGRAM_KEY].webhook(request)

        app.router.add_post(webhook_path(settings.telegram_webhook_url), telegram_webhook, name="telegram_webhook")
    return app


def main() -> None:
    """Run the gateway until interrupted."""
    settings = load_settings()
    configure_logging(settings)
    if not settings.rasa_webhook_secret:
        logger.error("RASA_WEBHOOK_SECRET is not set: Rasa's gateway channel refuses every message without it, "
                     "so farmers get only apologies. make run generates it into var/local.env.")
    if not settings.telegram_bot_token:
        logger.info("Telegram is off: TELEGRAM_BOT_TOKEN is not set. The web chat is still served.")
    elif settings.telegram_webhook_url and settings.telegram_webhook_secret:
        logger.info("Telegram in webhook mode on %s", webhook_path(settings.telegram_webhook_url))
    elif not settings.telegram_webhook_url:
        logger.info("Telegram in long-polling mode")
    # A webhook without its secret: create_app logs why Telegram stays off.
    logger.info("Web chat on http://%s:%d/", settings.gateway_host, settings.gateway_port)
    web.run_app(create_app(settings), host=settings.gateway_host, port=settings.gateway_port, print=None)
