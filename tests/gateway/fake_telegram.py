"""A fake Telegram Bot API server on 127.0.0.1 for driving the real python-telegram-bot Application.

It answers the methods PTB calls (getMe, getUpdates, deleteWebhook, setWebhook, setMyCommands,
sendMessage, sendChatAction, answerCallbackQuery, editMessageText, editMessageReplyMarkup, getFile),
records every call with its decoded parameters, serves the updates a test enqueues through
getUpdates (long polling) and the files a test adds (getFile, then /file/bot<token>/<path>), and
can be told to fail the next calls of a method (429, 5xx).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from aiohttp import web

BOT_ID = 777000
BOT_USERNAME = "xiangxin_test_bot"
TOKEN = "123456:TEST-TOKEN"
WAIT_SECONDS = 20.0


@dataclass
class Call:
    """One recorded Bot API call."""

    method: str
    params: Dict[str, Any]


@dataclass
class Failure:
    """An error answer to give instead of the next call of a method."""

    status: int
    body: Dict[str, Any]


def _decode(value: str) -> Any:
    # PTB form-encodes every parameter; objects and lists (reply_markup, commands …) arrive as JSON.
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class FakeTelegram:
    """The fake server's state: recorded calls, queued updates, planned failures."""

    calls: List[Call] = field(default_factory=list)
    updates: List[Dict[str, Any]] = field(default_factory=list)
    failures: Dict[str, List[Failure]] = field(default_factory=dict)
    # file_id → (file_path, content) of the files getFile and the download endpoint serve.
    files: Dict[str, Tuple[str, bytes]] = field(default_factory=dict)
    base_url: str = ""
    _update_ids: Any = field(default_factory=lambda: itertools.count(1))
    _message_ids: Any = field(default_factory=lambda: itertools.count(1000))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    # --- what tests use ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> List[Call]:
        """Every recorded call of `method`, in order."""
        return [call for call in self.calls if call.method == method]

    def sent_texts(self, chat_id: Optional[int] = None) -> List[str]:
        """Texts of every sendMessage (to one chat, when given)."""
        return [call.params["text"] for call in self.calls_to("sendMessage")
                if chat_id is None or str(call.params["chat_id"]) == str(chat_id)]

    def fail_next(self, method: str, status: int, description: str, retry_after: Optional[int] = None) -> None:
        """Answer the next call of `method` with an error (429 with retry_after, 5xx …)."""
        body: Dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.failures.setdefault(method, []).append(Failure(status, body))

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        """Make a file available to getFile and the file download endpoint."""
        self.files[file_id] = (file_path, content)

    async def enqueue(self, update: Dict[str, Any]) -> Dict[str, Any]:
        """Queue an update for the bot's next getUpdates; returns it (with its update_id)."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update

    async def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
        """Wait until `condition()` holds (it is checked after every call the bot makes); fails after `timeout`."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [call.method for call in self.calls if call.method != "getUpdates"]
                    raise AssertionError(f"no {what} after {timeout:.0f}s; calls: {seen}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    continue

    async def wait_for(self, method: str, count: int = 1, timeout: float = WAIT_SECONDS) -> List[Call]:
        """Wait until `method` has been called at least `count` times; returns those calls."""
        await self.wait_until(lambda: len(self.calls_to(method)) >= count, f"{count} calls of {method}", timeout)
        return self.calls_to(method)

    # --- the HTTP side ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """Every Bot API method, under /bot<token>/<method> (recorded even when the token is wrong)."""
        method = request.match_info["method"]
        form = await request.post() if request.can_read_body else {}
        params = {key: _decode(str(value)) for key, value in form.items()}
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        planned = self.failures.get(method)
        if planned:
            failure = planned.pop(0)
            return web.json_response(failure.body, status=failure.status)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._updates(params)})
        if method == "getFile" and params.get("file_id") not in self.files:
            return web.json_response({"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                                     status=400)
        return web.json_response({"ok": True, "result": self._result(method, params)})

    async def _updates(self, params: Dict[str, Any]) -> List[Dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        async with self._changed:
            self.updates = [update for update in self.updates if update["update_id"] >= offset]
            if not self.updates:
                # Long polling, kept short so the bot stops quickly at the end of a test.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(float(params.get("timeout") or 0), 1.0))
            return list(self.updates)

    def _result(self, method: str, params: Dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "乡信", "username": BOT_USERNAME,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method == "getFile":
            file_path, content = self.files[params["file_id"]]
            return {"file_id": params["file_id"], "file_unique_id": f"u-{params['file_id']}",
                    "file_size": len(content), "file_path": file_path}
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            message = {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id") or 0), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "乡信", "username": BOT_USERNAME},
                "text": params.get("text", ""),
            }
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            return message
        return True

    async def download(self, request: web.Request) -> web.Response:
        """A file under /file/bot<token>/<file_path>, as Telegram serves what getFile named (recorded as "download")."""
        path = request.match_info["path"]
        async with self._changed:
            self.calls.append(Call("download", {"path": path}))
            self._changed.notify_all()
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        for file_path, content in self.files.values():
            if file_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    def app(self) -> web.Application:
        """The aiohttp app of the fake server."""
        app = web.Application()
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        return app


# --- updates as Telegram sends them ----------------------------------------------------------------

_message_ids = itertools.count(1)


def user(user_id: int, first_name: str = "老王") -> Dict[str, Any]:
    """A Telegram user object."""
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}


def chat(chat_id: int, kind: str = "private") -> Dict[str, Any]:
    """A Telegram chat object (private chats have the user's id)."""
    return {"id": chat_id, "type": kind, **({"title": "村里群"} if kind != "private" else {"first_name": "老王"})}


def message(user_id: int, chat_id: Optional[int] = None, chat_type: str = "private", **content: Any) -> Dict[str, Any]:
    """A message update from `user_id` (in their private chat unless a group is given)."""
    return {"message": {
        "message_id": next(_message_ids), "date": int(time.time()), "from": user(user_id),
        "chat": chat(chat_id if chat_id is not None else user_id, chat_type), **content,
    }}


def text(user_id: int, body: str, chat_id: Optional[int] = None, chat_type: str = "private",
         **extra: Any) -> Dict[str, Any]:
    """A text message; a leading /command gets its bot_command entity, as Telegram sends it."""
    content: Dict[str, Any] = {"text": body, **extra}
    if body.startswith("/"):
        length = len(body.split()[0])
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return message(user_id, chat_id, chat_type, **content)


STICKER = {"file_id": "s1", "file_unique_id": "su1", "width": 512, "height": 512, "is_animated": False,
           "is_video": False, "type": "regular"}


def sticker(user_id: int) -> Dict[str, Any]:
    """A sticker in the user's private chat."""
    return message(user_id, sticker=STICKER)


def mention(user_id: int, body: str, group_id: int) -> Dict[str, Any]:
    """A group message that starts with @bot."""
    tag = f"@{BOT_USERNAME}"
    return message(user_id, group_id, "group", text=f"{tag} {body}",
                   entities=[{"type": "mention", "offset": 0, "length": len(tag)}])


def button_press(user_id: int, data: str, chat_id: Optional[int] = None) -> Dict[str, Any]:
    """A tap on an inline button under one of the bot's messages."""
    return {"callback_query": {
        "id": f"cb{next(_message_ids)}", "from": user(user_id), "chat_instance": "ci", "data": data,
        "message": {"message_id": next(_message_ids), "date": int(time.time()),
                    "chat": chat(chat_id if chat_id is not None else user_id),
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "乡信"}, "text": "…"},
    }}
