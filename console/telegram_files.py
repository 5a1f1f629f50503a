"""Fetching a farmer's file from Telegram for an officer: getFile, then the download, through the Bot API.

The console keeps only Telegram's file ids (knowledge.handoff.attachments); the file comes from Telegram
when an officer opens it. Telegram's download addresses contain the bot token, so neither those
addresses nor errors that might quote them are ever logged or shown as they are.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp

logger = logging.getLogger(__name__)

FETCH_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=10)
UNAVAILABLE = "暂时取不到这个文件（Telegram 没有响应或拒绝了请求），请稍后再试。"
TOO_BIG = "这个文件超过 20 MB，机器人无法下载，请让农户用其他方式发送。"
GONE = "Telegram 上已经找不到这个文件了。"
ONLY_IN_TELEGRAM = "这个文件保存在 Telegram 上；控制台没有配置机器人（TELEGRAM_BOT_TOKEN），不能在这里打开。"


class FileUnavailable(Exception):
    """Telegram would not give the file; `message` is plain Chinese for the officer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def file_base_url(api_base_url: str) -> str:
    """The Bot API's file address for its method address (https://api.telegram.org/bot → …/file/bot)."""
    root, _, last = api_base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{last}" if root and last.startswith("bot") else f"{api_base_url.rstrip('/')}/file/bot"


class TelegramFiles:
    """Opens files by Telegram file id with the bot's token (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL)."""

    def __init__(self, http: aiohttp.ClientSession, token: str, api_base_url: str) -> None:
        self._http = http
        self._token = token
        self._methods = f"{api_base_url.rstrip('/')}{token}"
        self._files = f"{file_base_url(api_base_url)}{token}"

    def _safe(self, text: str) -> str:
        return text.replace(self._token, "<token>")

    async def _file_path(self, file_id: str) -> str:
        async with self._http.post(f"{self._methods}/getFile", data={"file_id": file_id},
                                   timeout=FETCH_TIMEOUT) as response:
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = {}
        if not isinstance(answer, dict) or not answer.get("ok"):
            description = str((answer or {}).get("description", f"HTTP {response.status}")) \
                if isinstance(answer, dict) else f"HTTP {response.status}"
            logger.warning("Telegram getFile refused a file: %s", self._safe(description))
            lowered = description.lower()
            raise FileUnavailable(TOO_BIG if "too big" in lowered else GONE if "invalid file_id" in lowered
                                  else UNAVAILABLE)
        path = str((answer.get("result") or {}).get("file_path") or "")
        if not path:
            raise FileUnavailable(UNAVAILABLE)
        return path

    @asynccontextmanager
    async def open(self, file_id: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """The file's download response (status 200), to be read while the context is open."""
        try:
            path = await self._file_path(file_id)
            async with self._http.get(f"{self._files}/{path.lstrip('/')}", timeout=FETCH_TIMEOUT) as response:
                if response.status != 200:
                    logger.warning("Telegram file download answered HTTP %d", response.status)
                    raise FileUnavailable(UNAVAILABLE)
                yield response
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # aiohttp's messages may carry the request address, and with it the token.
            logger.warning("Could not fetch a file from Telegram: %s %s", error.__class__.__name__,
                           self._safe(str(error)))
            raise FileUnavailable(UNAVAILABLE) from None
