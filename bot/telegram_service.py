"""The python-telegram-bot Application inside the gateway process: built from settings, started and stopped
with the gateway's aiohttp app, fed by long polling or by a webhook route on the same aiohttp app."""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import Callable, Optional
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import InvalidToken
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.officer_chat import OfficerChat
from bot.telegram_chat import HELP, TelegramChat
from bot.telegram_render import (
    FORGET_CANCEL_PREFIX,
    FORGET_CONFIRM_PREFIX,
    HOME_REGION_PREFIX,
    SETPRICE_CANCEL_PREFIX,
    SETPRICE_CONFIRM_PREFIX,
)
from bot.telegram_send import send_with_retry
from bot.update_order import PerUserUpdateProcessor
from settings import Settings

logger = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "开始，设置所在地区"),
    BotCommand("help", "能问什么、怎么用"),
    BotCommand("price", "查价格，例如 /price 玉米"),
    BotCommand("subscribe", "价格提醒，例如 /subscribe 玉米"),
    BotCommand("unsubscribe", "取消价格提醒"),
    BotCommand("human", "转给信息员"),
    BotCommand("forget", "删除我的记录"),
]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
FIRST_START_BACKOFF_SECONDS = 5.0
MAX_START_BACKOFF_SECONDS = 300.0


def webhook_path(webhook_url: str) -> str:
    """The path of the webhook route on the gateway: the path of TELEGRAM_WEBHOOK_URL."""
    return urlparse(webhook_url).path or DEFAULT_WEBHOOK_PATH


def build_application(settings: Settings, chat: TelegramChat, officers: OfficerChat) -> Application:
    """The PTB Application with every handler registered; not started."""
    application = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        # Several farmers are answered at once (one slow Rasa answer must not hold up the others),
        # while each farmer's own messages are answered in order.
        .concurrent_updates(PerUserUpdateProcessor(32))
        .connect_timeout(5)
        .read_timeout(10)
        .write_timeout(10)
        .build()
    )
    private_or_group_message = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", chat.on_start))
    application.add_handler(CommandHandler("help", chat.on_help))
    application.add_handler(CommandHandler("price", chat.on_price))
    application.add_handler(CommandHandler("subscribe", chat.on_subscribe))
    application.add_handler(CommandHandler("unsubscribe", chat.on_unsubscribe))
    application.add_handler(CommandHandler("human", chat.on_human))
    application.add_handler(CommandHandler("forget", chat.on_forget))
    application.add_handler(CommandHandler("link", officers.on_link))
    application.add_handler(CommandHandler("setprice", officers.on_setprice))
    application.add_handler(CallbackQueryHandler(
        officers.on_setprice_button, pattern=f"^({SETPRICE_CONFIRM_PREFIX}|{SETPRICE_CANCEL_PREFIX})"
    ))
    application.add_handler(CallbackQueryHandler(
        chat.on_forget_button, pattern=f"^({FORGET_CONFIRM_PREFIX}|{FORGET_CANCEL_PREFIX})"
    ))
    application.add_handler(CallbackQueryHandler(chat.on_home_button, pattern=f"^{HOME_REGION_PREFIX}"))
    application.add_handler(CallbackQueryHandler(chat.on_button))
    application.add_handler(MessageHandler(private_or_group_message & filters.TEXT & ~filters.COMMAND, chat.on_text))
    application.add_handler(MessageHandler(private_or_group_message & (filters.VOICE | filters.AUDIO), chat.on_voice))
    application.add_handler(MessageHandler(private_or_group_message & filters.PHOTO, chat.on_photo))
    application.add_handler(MessageHandler(private_or_group_message & (filters.VIDEO | filters.VIDEO_NOTE),
                                           chat.on_video))
    application.add_handler(MessageHandler(private_or_group_message & filters.Sticker.ALL, chat.on_sticker))
    application.add_handler(MessageHandler(private_or_group_message & filters.Document.ALL, chat.on_document))
    application.add_handler(MessageHandler(private_or_group_message & filters.LOCATION, chat.on_location))
    application.add_handler(MessageHandler(
        private_or_group_message & filters.COMMAND & filters.ChatType.PRIVATE, _unknown_command
    ))
    application.add_error_handler(_log_error)
    return application


async def _unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is not None:
        await send_with_retry("help after an unknown command",
                              lambda: context.bot.send_message(chat.id, "没有这个命令。\n" + HELP))


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Log first: an error in a handler must leave a trace even if telling the farmer fails too.
    kind = type(update).__name__
    logger.error("Error while handling a Telegram %s", kind, exc_info=context.error)


class TelegramService:
    """Starts the Application (retrying while Telegram is unreachable), and serves its webhook when configured."""

    def __init__(self, application: Application, settings: Settings,
                 on_ready: Optional[Callable[[], None]] = None) -> None:
        self.application = application
        self._on_ready = on_ready
        self._webhook_url = settings.telegram_webhook_url
        self._secret = settings.telegram_webhook_secret
        self._task: Optional[asyncio.Task] = None
        self.ready = asyncio.Event()

    @property
    def webhook_mode(self) -> bool:
        """True when Telegram posts updates to us instead of us polling."""
        return bool(self._webhook_url)

    async def _start(self) -> None:
        application = self.application
        await application.initialize()
        await application.bot.set_my_commands(COMMANDS)
        await application.start()
        if self.webhook_mode:
            await application.bot.set_webhook(
                self._webhook_url, secret_token=self._secret, allowed_updates=Update.ALL_TYPES
            )
            logger.info("Telegram on as @%s, webhook mode", application.bot.username)
        else:
            # The builder gives every application an updater unless told not to (build_application does not).
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            logger.info("Telegram on as @%s, long polling", application.bot.username)
        self.ready.set()
        if self._on_ready is not None:
            self._on_ready()

    async def _start_until_done(self) -> None:
        backoff = FIRST_START_BACKOFF_SECONDS
        while True:
            try:
                await self._start()
                return
            except InvalidToken:
                # No retry fixes a wrong token; PTB's message would print the token, so it is not logged.
                logger.error("Telegram rejected TELEGRAM_BOT_TOKEN; Telegram stays off, the web chat is still served")
                await self._undo_start()
                return
            except Exception as error:  # noqa: BLE001 (whatever broke the start, the next attempt may succeed)
                # The web chat keeps serving; Telegram comes up by itself once it can be reached.
                logger.error("Telegram could not start (%s: %s); retrying in %.0fs",
                             error.__class__.__name__, error, backoff)
                await self._undo_start()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_START_BACKOFF_SECONDS)

    async def _undo_start(self) -> None:
        """Take a half-done start apart, so the next attempt starts from scratch.

        PTB's Bot counts itself initialised even when its getMe failed, and would then never learn its
        username (which group messages need); shutting it down makes the next initialize call getMe again.
        """
        application = self.application
        with contextlib.suppress(Exception):  # parts that never started refuse to stop; nothing to free then
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        with contextlib.suppress(Exception):
            await application.bot.shutdown()

    def start(self) -> None:
        """Start in the background; `ready` is set once updates flow."""
        if self._task is None:
            self._task = asyncio.create_task(self._start_until_done(), name="telegram-start")

    async def stop(self) -> None:
        """Stop polling and the Application."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        with contextlib.suppress(Exception):  # a half-initialised Application may refuse; nothing to free then
            await application.shutdown()

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST of one update: checked against the secret token, then queued for the handlers."""
        # No secret configured refuses every call too (create_app does not start webhook mode without one).
        if not self._secret or not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), self._secret):
            logger.warning("Webhook call without the right secret token refused")
            return web.Response(status=403)
        if not self.ready.is_set():
            return web.Response(status=503)  # Telegram retries later
        try:
            data = await request.json(loads=json.loads)
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)
