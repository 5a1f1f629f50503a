"""Farmers on Telegram: text to Rasa and replies back, commands, buttons, and what to say to voice, photos,
videos and places.

Voice messages, photos, videos and files are noted for the farmer (bot.farmer_media) before the reply, so
that "转给信息员" or /human right after hands them to the officer with the ticket.

Each Telegram user is one conversation ("tg-<user id>"), also inside a group, where the bot
answers only when addressed (a mention, a reply to the bot, or a command).
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any, Dict, List, Optional

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, MessageEntityType
from telegram.ext import ContextTypes

from bot.button_keys import PAYLOAD_KIND, remember_payload
from bot.conversation import Conversation
from bot.farmer_directory import FarmerDirectory
from bot.farmer_media import MediaNotes, sent_media
from bot.forgetting import Forgetting
from bot.replies import Button, Reply
from bot.telegram_render import (
    FORGET_CANCEL_PREFIX,
    FORGET_CONFIRM_PREFIX,
    HOME_REGION_PREFIX,
    STORED_PAYLOAD_PREFIX,
    inline_keyboard,
    split_text,
)
from bot.telegram_send import masked_chat, say, send_with_retry
from knowledge.callback_store import recall
from knowledge.db import KnowledgeStore
from knowledge.masking import mask_sender_id

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
REGION_QUESTION = "请告诉我您在哪个县、乡镇或村（直接回复地名，例如：藁城），这样查价格时会先看您附近的市场。"
WELCOME = (
    "您好！我是乡信，农村信息服务助手。\n"
    "可以问我：\n"
    "· 农产品价格：玉米多少钱一斤？\n"
    "· 价格涨跌：最近猪价是涨是跌？\n"
    "· 政策补贴：种粮补贴怎么领？\n"
    "· 养老保险、医保：养老保险一年交多少？\n"
    "· 价格提醒：玉米价格变了告诉我\n"
    "答不上来的问题，可以转给信息员。\n"
    "我们保存您的聊天记录、称呼和所在地区，用来回答您的问题，{days}天后自动删除；想现在删，发 /forget。"
)
HELP = (
    "直接打字提问就行，例如“玉米多少钱一斤”“粮补怎么领”。\n"
    "常用命令：\n"
    "/price 玉米 — 查价格\n"
    "/subscribe 玉米 — 价格变了提醒我\n"
    "/unsubscribe — 取消价格提醒\n"
    "/human — 转给信息员\n"
    "/start — 重新设置所在地区\n"
    "/forget — 删除我的记录\n"
    "信息员：/link 绑定码，/setprice 品名 价格 单位 [市场]"
)
VOICE_REPLY = "暂时听不懂语音，请打字提问，比如“玉米多少钱一斤”。也可以把问题转给信息员。"
PHOTO_REPLY = "收到照片。我还看不懂照片，可以转给信息员或专家看看；请再用几句话说说是什么情况。"
VIDEO_REPLY = "收到视频。我还看不懂视频，可以转给信息员或专家看看；请再用几句话说说是什么情况。"
STICKER_REPLY = "收到😊 有问题请直接打字问我，比如：玉米多少钱一斤？"
DOCUMENT_REPLY = "我暂时不能处理文件。请直接打字提问，或发 /human 把文件转给信息员；信息员录入价格表请用管理后台。"
UNKNOWN_PLACE = "没找到“{name}”这个地方。请换个写法（写县名或乡镇名），或者点“发送我的位置”。"
PLACE_STORED = "好的，已记下您在{region}。以后查价格会先看{region}附近的市场。想改的话，发 /start 重新设置。"
LOCATION_CONFIRM = ("根据您发的位置，您在{region}附近。是这里吗？是的话点下面的按钮；"
                    "不对的话，请直接回复所在县或乡镇的名字。")
LOCATION_YES = "是，记下这里"
WHICH_PLACE = "叫“{name}”的地方有好几个，您在哪一个？"

LOCATION_UNKNOWN = "这个位置附近没有我们收录的地区。请直接回复所在县或乡镇的名字。"
HANDOFF_BUTTONS = [Button("转给信息员", "/request_human"), Button("不用了", "/deny")]
SEND_LOCATION = "发送我的位置"
REGION_KNOWN = "您所在的地区：{region}。要改的话，发 /start 加上地名，例如：/start 藁城"
EXPIRED_BUTTON = "这个按钮已过期，请重新提问。"
AWAITING_REGION = "awaiting_region"
# What a farmer types instead of /forget (the greeting names it).
FORGET_WORDS = "删除我的记录"
FORGET_QUESTION = ("确定要删除您在乡信的全部记录吗？包括聊天记录、称呼、所在地区、价格提醒和转给信息员的问题。"
                   "删除后不能恢复，还没收到的回复和提醒也不会再发。")
FORGET_CONFIRM, FORGET_CANCEL = "确认删除", "取消"
FORGET_PRIVATE_ONLY = "请在和我的私聊里发 /forget，删除您自己的记录。"
FORGET_NOT_YOURS = "只有本人能删除自己的记录。"
FORGET_CANCELLED = "好的，记录没有删除。"
FORGOTTEN = "已删除您的记录。以后再发消息，就像第一次来一样。Telegram 里的聊天内容，请在自己手机上删除。"


def sender_id(user: User) -> str:
    """The stable conversation id of a Telegram user, the same in private chats and groups."""
    return f"tg-{user.id}"


def private_chat_id(chat: Chat) -> Optional[str]:
    """The chat to push to, when this is the farmer's private chat with the bot (never a group's)."""
    return str(chat.id) if chat.type == Chat.PRIVATE else None


def _user_data(context: ContextTypes.DEFAULT_TYPE) -> Dict[Any, Any]:
    # PTB leaves user_data None only for updates without a user; these handlers return early on those.
    assert context.user_data is not None
    return context.user_data


def rasa_payload(intent: str, **entities: str) -> str:
    """A Rasa button-style payload ("/ask_price{"product":"玉米"}") for a command's arguments."""
    values = {name: value for name, value in entities.items() if value}
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"


class TelegramChat:
    """The handlers PTB calls for farmers' messages, commands and button presses."""

    def __init__(self, conversation: Conversation, farmers: FarmerDirectory, store: KnowledgeStore,
                 forgetting: Forgetting, retention_days: int, media: Optional[MediaNotes] = None) -> None:
        self._conversation = conversation
        self._farmers = farmers
        self._store = store
        self._forgetting = forgetting
        self._welcome = WELCOME.format(days=retention_days)
        self._media = media or MediaNotes(store)

    # --- sending ---------------------------------------------------------------------------------

    async def _store_payload(self, payload: str) -> str:
        return await self._store.run(lambda session: remember_payload(session, payload))

    async def send_replies(self, context: ContextTypes.DEFAULT_TYPE, chat: Chat, replies: List[Reply],
                           reply_to: Optional[Message] = None) -> None:
        """Send the bot's replies: split at 4096 characters on line ends, buttons under the last part."""
        quote = ReplyParameters(message_id=reply_to.message_id, allow_sending_without_reply=True) \
            if reply_to is not None and chat.type != Chat.PRIVATE else None
        for reply in replies:
            keyboard = await inline_keyboard(reply.buttons, self._store_payload)
            parts = split_text(reply.text or "请选择：")
            for index, part in enumerate(parts):
                markup = keyboard if index == len(parts) - 1 else None
                await send_with_retry(
                    f"reply to {masked_chat(chat.id)}",
                    functools.partial(context.bot.send_message, chat.id, part, reply_markup=markup,
                                      reply_parameters=quote),
                )

    async def _typing(self, context: ContextTypes.DEFAULT_TYPE, chat: Chat) -> None:
        # Shown while Rasa thinks; a failure here must never delay or lose the answer.
        await send_with_retry(f"typing in {masked_chat(chat.id)}",
                              lambda: context.bot.send_chat_action(chat.id, ChatAction.TYPING), attempts=1)

    async def ask_rasa(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        """Send the farmer's text (or a button's payload) to Rasa and the replies back to the chat."""
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None:
            return
        metadata: Dict[str, Any] = {"channel": CHANNEL, "chat_id": str(chat.id), "display_name": user.full_name}
        typing = asyncio.create_task(self._typing(context, chat))
        try:
            replies = await self._conversation.handle_text(
                sender_id(user), text, metadata, private=chat.type == Chat.PRIVATE
            )
        finally:
            await typing
        await self.send_replies(context, chat, replies, reply_to=message)

    # --- addressing in groups --------------------------------------------------------------------

    @staticmethod
    def addressed_text(message: Message, bot_username: str, bot_id: int) -> Optional[str]:
        """The text meant for the bot, or None when a group message is not addressed to it.

        A photo or video names the bot in its caption ("@bot 这叶子咋了"), which has entities of its own.
        """
        is_caption = message.text is None and message.caption is not None
        text = (message.caption if is_caption else message.text) or ""
        if message.chat.type == Chat.PRIVATE:
            return text
        entities = (message.caption_entities if is_caption else message.entities) or ()
        parse = message.parse_caption_entity if is_caption else message.parse_entity
        mention = f"@{bot_username}".lower()
        addressed = any(
            (entity.type == MessageEntityType.MENTION and parse(entity).lower() == mention)
            or (entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id)
            for entity in entities
        )
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
            addressed = True
        if not addressed:
            return None
        cleaned = text.replace(f"@{bot_username}", " ").replace(f"@{bot_username.lower()}", " ")
        return " ".join(cleaned.split())

    # --- handlers --------------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text message: a region when we asked for one, otherwise a question for Rasa."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        text = self.addressed_text(message, context.bot.username, context.bot.id)
        if text is None:
            return
        if text.strip() == FORGET_WORDS:
            await self.on_forget(update, context)
            return
        threaded = self._answers_region_question(message, context)
        # Without a threaded reply, the question is remembered per user (lost on restart, when the
        # answer simply goes to Rasa, which knows places too).
        awaited = message.chat.type == Chat.PRIVATE and bool(_user_data(context).pop(AWAITING_REGION, False))
        if (threaded or awaited) and await self._store_region(update, context, text, insist=threaded):
            return
        await self.ask_rasa(update, context, text)

    @staticmethod
    def _answers_region_question(message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
        replied = message.reply_to_message
        return (replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id
                and (replied.text or "") == REGION_QUESTION)

    async def _store_region(self, update: Update, context: ContextTypes.DEFAULT_TYPE, name: str,
                            insist: bool = True) -> bool:
        """Store the named region; True when the message was handled here.

        An unknown place is answered only when the farmer clearly meant to answer (`insist`); otherwise
        the text was probably a question after all ("玉米多少钱") and goes on to Rasa.
        """
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return False
        name = name.strip()[:32]
        home = await self._farmers.set_region_by_name(sender_id(user), CHANNEL, private_chat_id(chat), name) \
            if name else None
        if home is not None and home.choices:
            buttons = [[InlineKeyboardButton(label, callback_data=f"{HOME_REGION_PREFIX}{region_id}")]
                       for region_id, label in home.choices]
            await say(context.bot, chat.id, WHICH_PLACE.format(name=name), markup=InlineKeyboardMarkup(buttons))
            return True
        if home is None or home.stored is None:
            if not insist:
                return False
            await say(context.bot, chat.id, UNKNOWN_PLACE.format(name=name))
            return True
        _user_data(context).pop(AWAITING_REGION, None)
        await say(context.bot, chat.id, PLACE_STORED.format(region=home.name), markup=ReplyKeyboardRemove())
        return True

    async def on_home_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The farmer chose their place (one of several of that name, or their shared location): store it."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        await send_with_retry("answer to a button", lambda: query.answer())
        try:
            region_id = int((query.data or "")[len(HOME_REGION_PREFIX):])
        except ValueError:
            return
        home = await self._farmers.set_region_id(sender_id(query.from_user), CHANNEL, private_chat_id(chat), region_id)
        if home.stored is not None:
            _user_data(context).pop(AWAITING_REGION, None)
            await say(context.bot, chat.id, PLACE_STORED.format(region=home.name), markup=ReplyKeyboardRemove())

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start: welcome, and ask once where the farmer lives (a private chat offers to share the location)."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        private = chat.type == Chat.PRIVATE
        region = await self._farmers.remember(sender_id(user), CHANNEL, str(chat.id), user.full_name, private=private)
        await say(context.bot, chat.id, self._welcome)
        if region and not context.args:
            await say(context.bot, chat.id, REGION_KNOWN.format(region=region))
            return
        if context.args:
            await self._store_region(update, context, " ".join(context.args))
            return
        markup = ReplyKeyboardMarkup([[KeyboardButton(SEND_LOCATION, request_location=True)]],
                                     resize_keyboard=True, one_time_keyboard=True) if private else None
        _user_data(context)[AWAITING_REGION] = True
        await say(context.bot, chat.id, REGION_QUESTION, markup=markup)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help: what the bot can do and its commands."""
        if update.effective_chat is not None:
            await say(context.bot, update.effective_chat.id, HELP)

    async def on_price(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/price 玉米: the price answer, as if the farmer had asked."""
        await self.ask_rasa(update, context, rasa_payload("ask_price", product=" ".join(context.args or [])))

    async def on_subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/subscribe 玉米 [每天8点 | 低于1.1]: a price alert."""
        words = context.args or []
        if len(words) > 1:
            # A rule in words ("每天8点", "低于1.1元") is understood by Rasa, as if typed.
            await self.ask_rasa(update, context, f"{' '.join(words)} 订阅价格提醒")
        else:
            await self.ask_rasa(update, context, rasa_payload("subscribe_price_alert", product="".join(words)))

    async def on_unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/unsubscribe [玉米]: cancel price alerts."""
        await self.ask_rasa(update, context,
                            rasa_payload("unsubscribe_price_alert", product=" ".join(context.args or [])))

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/human: hand the question to an information officer."""
        await self.ask_rasa(update, context, "/request_human")

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/forget (or “删除我的记录”): ask the farmer to confirm with a button; only in their private chat."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        if chat.type != Chat.PRIVATE:
            await say(context.bot, chat.id, FORGET_PRIVATE_ONLY)
            return
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton(FORGET_CONFIRM, callback_data=f"{FORGET_CONFIRM_PREFIX}{user.id}"),
            InlineKeyboardButton(FORGET_CANCEL, callback_data=f"{FORGET_CANCEL_PREFIX}{user.id}"),
        ]])
        await say(context.bot, chat.id, FORGET_QUESTION, markup=markup)

    async def on_forget_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """确认删除 / 取消 under the /forget question; only the farmer who asked may press them."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        data = query.data or ""
        confirm = data.startswith(FORGET_CONFIRM_PREFIX)
        if data.split(":")[-1] != str(query.from_user.id):
            await send_with_retry("answer to a /forget button", lambda: query.answer(FORGET_NOT_YOURS))
            return
        await send_with_retry("answer to a /forget button", lambda: query.answer())
        # The buttons go, so the question cannot be answered twice.
        await send_with_retry("/forget buttons removed", lambda: query.edit_message_reply_markup(None), attempts=1)
        if not confirm:
            await say(context.bot, chat.id, FORGET_CANCELLED)
            return
        await self._forgetting.forget(sender_id(query.from_user), via=CHANNEL)
        if context.user_data is not None:
            context.user_data.clear()
        logger.info("A Telegram farmer was forgotten at their request")
        await say(context.bot, chat.id, FORGOTTEN)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tap on an inline button carrying a Rasa payload (directly or through a short key)."""
        query = update.callback_query
        if query is None:
            return
        data = query.data or ""
        payload: Optional[str] = data
        if data.startswith(STORED_PAYLOAD_PREFIX):
            key = data[len(STORED_PAYLOAD_PREFIX):]
            payload = await self._store.run(lambda session: recall(session, key, PAYLOAD_KIND))
        await send_with_retry("answer to a button", lambda: query.answer(None if payload else EXPIRED_BUTTON))
        if not payload:
            logger.info("Expired button pressed by %s", mask_sender_id(sender_id(query.from_user)))
            return
        await self.ask_rasa(update, context, payload)

    async def on_voice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice: noted for the officer; ask to type, or offer an officer."""
        await self._reply_to_media(update, context, VOICE_REPLY, HANDOFF_BUTTONS, note=True)

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photo: noted for the officer; offer to pass it to an officer or expert."""
        await self._reply_to_media(update, context, PHOTO_REPLY, HANDOFF_BUTTONS, note=True)

    async def on_video(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Video or round video note (often a sick crop or animal): noted; offer an officer or expert."""
        await self._reply_to_media(update, context, VIDEO_REPLY, HANDOFF_BUTTONS, note=True)

    async def on_sticker(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Sticker: a friendly nudge to type a question."""
        await self._reply_to_media(update, context, STICKER_REPLY, [])

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Document: the bot does not read files, but an officer handed the question (/human) gets it."""
        await self._reply_to_media(update, context, DOCUMENT_REPLY, [], note=True)

    async def _reply_to_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                              buttons: List[Button], note: bool = False) -> None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None:
            return
        if chat.type != Chat.PRIVATE and self.addressed_text(message, context.bot.username, context.bot.id) is None:
            return
        media = sent_media(message) if note and user is not None else None
        if media is not None and user is not None:
            # Before the reply, so a tap on its "转给信息员" button always finds the media noted.
            await self._media.note(sender_id(user), CHANNEL, str(chat.id), user.full_name, media,
                                   private=chat.type == Chat.PRIVATE)
        await self.send_replies(context, chat, [Reply(text, list(buttons))], reply_to=message)

    async def on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A shared location: the county it lies in, asked back to the farmer, who confirms with a button."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or message.location is None:
            return
        if chat.type != Chat.PRIVATE and self.addressed_text(message, context.bot.username, context.bot.id) is None:
            return
        # Nearest county seat: near a border it can be the neighbour, so the farmer confirms before it is stored.
        place = await self._farmers.place_near(message.location.latitude, message.location.longitude)
        _user_data(context)[AWAITING_REGION] = True
        if place is None:
            await say(context.bot, chat.id, LOCATION_UNKNOWN, markup=ReplyKeyboardRemove())
            return
        region_id, label = place
        await say(context.bot, chat.id, LOCATION_CONFIRM.format(region=label), markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(LOCATION_YES, callback_data=f"{HOME_REGION_PREFIX}{region_id}")]]))
