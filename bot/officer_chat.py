"""Officers on Telegram: linking the phone to a console account (/link), and adding a price (/setprice) with
confirm and cancel buttons (the command itself: bot.officer_prices; the rules: knowledge.people.accounts and
knowledge.prices.officer_entry)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.conversation import RateLimiter
from bot.officer_prices import cancel_price, confirm_price, hold_price, prepare_price
from bot.telegram_render import SETPRICE_CANCEL_PREFIX, SETPRICE_CONFIRM_PREFIX
from bot.telegram_send import say, send_with_retry
from knowledge.db import KnowledgeStore
from knowledge.local_time import local_today
from knowledge.people.accounts import redeem_telegram_link_code
from knowledge.prices.officer_entry import OfficerPriceError

logger = logging.getLogger(__name__)

LINK_USAGE = "请发送：/link 8位绑定码（在管理后台“绑定 Telegram”处获取）。"
LINK_FAILED = "绑定码不对或已过期（15分钟内有效，只能用一次）。请在管理后台重新获取。"
LINK_PRIVATE_ONLY = "为了安全，请在和我的私聊里发送绑定码，不要发在群里。"
LINK_TOO_FAST = "尝试次数太多，请一分钟后再试。"
LINK_ATTEMPTS_PER_MINUTE = 5
LINKED = "绑定成功：{name}。现在可以用 /setprice 录入价格了，例如：/setprice 玉米 1.15 元/斤"
SETPRICE_PRIVATE_ONLY = "请在和我的私聊里录入价格。"


class OfficerChat:
    """Handlers for /link, /setprice and its buttons."""

    def __init__(self, store: KnowledgeStore, today: Callable[[], dt.date] = local_today) -> None:
        self._store = store
        self._today = today
        self._link_attempts = RateLimiter(per_minute=LINK_ATTEMPTS_PER_MINUTE)

    async def on_link(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/link 12345678: link this Telegram user to the console account that issued the code."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        if chat.type != "private":
            # The code is single-use, but a code shown in a group is still a code someone else could read.
            await say(context.bot, chat.id, LINK_PRIVATE_ONLY)
            return
        code = "".join(context.args or [])
        if not code:
            await say(context.bot, chat.id, LINK_USAGE)
            return
        if not self._link_attempts.allow(str(user.id)):
            # Eight digits are many, but guessing should still be slow.
            await say(context.bot, chat.id, LINK_TOO_FAST)
            return

        def link(session) -> str:
            account = redeem_telegram_link_code(session, code, str(user.id))
            if account is None:
                return ""
            return account.display_name or account.username

        name = await self._store.run(link)
        if not name:
            logger.info("Failed Telegram link attempt")
            await say(context.bot, chat.id, LINK_FAILED)
            return
        await say(context.bot, chat.id, LINKED.format(name=name))

    async def on_setprice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/setprice 玉米 1.15 元/斤 [市场]: check it and ask the officer to confirm."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        if chat.type != "private":
            await say(context.bot, chat.id, SETPRICE_PRIVATE_ONLY)
            return
        text = " ".join(context.args or [])
        today = self._today()

        def prepare(session) -> tuple:
            pending, question = prepare_price(session, str(user.id), text, today)
            return hold_price(session, pending), question

        try:
            key, question = await self._store.run(prepare)
        except OfficerPriceError as error:
            await say(context.bot, chat.id, str(error))
            return
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton("✅ 确认录入", callback_data=SETPRICE_CONFIRM_PREFIX + key),
            InlineKeyboardButton("❌ 取消", callback_data=SETPRICE_CANCEL_PREFIX + key),
        ]])
        await say(context.bot, chat.id, question, markup)

    async def on_setprice_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Confirm or cancel a pending /setprice; only the officer who sent it can."""
        query = update.callback_query
        if query is None:
            return
        data = query.data or ""
        confirm = data.startswith(SETPRICE_CONFIRM_PREFIX)
        key = data[len(SETPRICE_CONFIRM_PREFIX if confirm else SETPRICE_CANCEL_PREFIX):]
        telegram_user_id = str(query.from_user.id)
        today = self._today()

        def settle(session) -> str:
            if confirm:
                return confirm_price(session, key, telegram_user_id, today)
            return cancel_price(session, key, telegram_user_id)

        try:
            result = await self._store.run(settle)
        except OfficerPriceError as error:
            result = str(error)
        await send_with_retry("answer to a /setprice button", lambda: query.answer(result[:190]))
        # The question is replaced by the outcome, so the buttons cannot be pressed twice.
        await send_with_retry("/setprice outcome", lambda: query.edit_message_text(result))
