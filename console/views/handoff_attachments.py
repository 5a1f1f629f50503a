"""A farmer's voice message, photo, video or file on a handoff ticket, fetched from Telegram and streamed to the officer
(the same role and region checks as the ticket itself)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, Optional
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context
from console.security import current_user, require
from console.telegram_files import ONLY_IN_TELEGRAM, FileUnavailable
from console.views.handoff import visible_ticket
from knowledge.db import session_scope
from knowledge.handoff.inbox import ticket_attachment as attachment_of_ticket
from knowledge.models import Role

logger = logging.getLogger(__name__)

# Types a browser may show in the page's stead; anything else (HTML, SVG, scripts …) is only downloaded,
# so a farmer's file can never run in the console's origin.
SHOWN_INLINE = {"image/jpeg", "image/png", "image/webp", "image/gif", "audio/ogg", "audio/mpeg", "audio/mp4",
                "audio/aac", "audio/x-m4a", "audio/wav", "video/mp4", "application/pdf"}
# Telegram sends photos as JPEG and video notes as MP4 without saying so.
DEFAULT_TYPES = {"photo": "image/jpeg", "voice": "audio/ogg", "video_note": "video/mp4"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "audio/ogg": ".ogg", "audio/mpeg": ".mp3",
              "video/mp4": ".mp4", "application/pdf": ".pdf"}
CHUNK_BYTES = 64 * 1024
# Past the retention period, or at the farmer's request, only what was sent is kept, not the file's id.
ERASED_FILE = "这个文件已按保存期限或农户的要求删除。"


@dataclass(frozen=True)
class _Wanted:
    """What the route needs of the attachment once the database session is closed."""

    id: int
    kind: str
    file_id: str
    mime_type: Optional[str]
    file_name: Optional[str]


def _headers(wanted: _Wanted) -> Dict[str, str]:
    content_type = (wanted.mime_type or DEFAULT_TYPES.get(wanted.kind, "")).lower()
    inline = content_type in SHOWN_INLINE
    name = wanted.file_name or f"{wanted.kind}-{wanted.id}{EXTENSIONS.get(content_type, '')}"
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Type": content_type if inline else "application/octet-stream",
        "Content-Disposition": f"{disposition}; filename=\"attachment-{wanted.id}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        # Farmers' pictures and voices must not stay in a shared computer's cache.
        "Cache-Control": "no-store",
    }


def _unavailable(request: web.Request, message: str) -> web.Response:
    return aiohttp_jinja2.render_template("error.html", request, {"title": "取不到文件", "message": message},
                                          status=502)


@require(Role.ADMIN, Role.OFFICER)
async def ticket_attachment(request: web.Request) -> web.StreamResponse:
    """The attachment's file from Telegram, streamed; 404 when the console has no bot token."""
    user = current_user(request)
    context = console_context(request)
    with session_scope(context.sessions) as db:
        ticket = visible_ticket(db, request, user)
        attachment = attachment_of_ticket(db, ticket, int(request.match_info["attachment_id"]))
        if attachment is None:
            raise web.HTTPNotFound(text="这个工单没有这个附件。")
        if not attachment.telegram_file_id:
            raise web.HTTPNotFound(text=ERASED_FILE)
        wanted = _Wanted(attachment.id, attachment.kind, attachment.telegram_file_id, attachment.mime_type,
                         attachment.file_name)
    if context.telegram_files is None:
        raise web.HTTPNotFound(text=ONLY_IN_TELEGRAM)
    response = web.StreamResponse(headers=_headers(wanted))
    try:
        async with context.telegram_files.open(wanted.file_id) as upstream:
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(CHUNK_BYTES):
                await response.write(chunk)
    except FileUnavailable as error:
        if response.prepared:  # cut off mid-file: the officer's browser sees an incomplete download
            return response
        return _unavailable(request, error.message)
    await response.write_eof()
    logger.info("Attachment %d of ticket %d opened by %s", wanted.id, ticket.id, user.username)
    return response
