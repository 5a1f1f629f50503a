"""Voice messages, photos, videos and files farmers send: noted by the gateway, taken along by the handoff ticket
opened soon after, and described in plain Chinese for the ticket and the console.

The gateway writes a row per media message (knowledge.models.FarmerAttachment); the action server,
opening a ticket, links the farmer's media of the last HANDOFF_WINDOW that no ticket has taken yet.
Both go through the database, so it works across restarts and with several gateway processes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from knowledge.db import count_changed_rows
from knowledge.models import FarmerAttachment, HandoffTicket, utcnow

# Media sent this long before the farmer asks for a person goes with the ticket.
HANDOFF_WINDOW = dt.timedelta(minutes=30)
MAX_CAPTION = 1000
CAPTION_IN_QUESTION = 200
KIND_NAMES = {"voice": "语音", "audio": "录音", "photo": "照片", "video": "视频", "video_note": "视频消息",
              "document": "文件"}
_COUNTED = {"voice": "一条语音", "audio": "一段录音", "photo": "一张照片", "video": "一段视频",
            "video_note": "一条视频消息", "document": "一个文件"}
# Sizes the officer should see before opening (the Bot API gives no file over 20 MB).
_SIZED = {"document", "video", "video_note"}


@dataclass(frozen=True)
class SentMedia:
    """What a messenger says about one media message (the file itself stays with the messenger)."""

    kind: str
    file_id: str
    duration_seconds: Optional[int] = None
    file_size: Optional[int] = None
    file_name: Optional[str] = None
    mime_type: Optional[str] = None
    caption: Optional[str] = None


def remember_attachment(session: Session, farmer_id: int, media: SentMedia,
                        now: Optional[dt.datetime] = None) -> FarmerAttachment:
    """Note a media message of the farmer; the caller commits."""
    caption = (media.caption or "").strip()[:MAX_CAPTION] or None
    attachment = FarmerAttachment(
        farmer_id=farmer_id, kind=media.kind, telegram_file_id=media.file_id[:256],
        duration_seconds=media.duration_seconds, file_size=media.file_size,
        file_name=(media.file_name or None) and media.file_name[:256],
        mime_type=(media.mime_type or None) and media.mime_type[:128],
        caption=caption, created_at=now or utcnow(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def recent_unhanded(session: Session, farmer_id: int, now: Optional[dt.datetime] = None) -> List[FarmerAttachment]:
    """The farmer's media of the last HANDOFF_WINDOW that no ticket has taken yet, oldest first."""
    since = (now or utcnow()) - HANDOFF_WINDOW
    return list(session.scalars(
        select(FarmerAttachment)
        .where(FarmerAttachment.farmer_id == farmer_id, FarmerAttachment.handoff_ticket_id.is_(None),
               FarmerAttachment.created_at >= since)
        .order_by(FarmerAttachment.created_at, FarmerAttachment.id)
    ))


def attach_to_ticket(session: Session, ticket: HandoffTicket, attachments: Iterable[FarmerAttachment]) -> int:
    """Link the attachments to the ticket; returns how many it got.

    Conditional, so media is handed over once even if two tickets of one farmer open at the same moment.
    """
    ids = [attachment.id for attachment in attachments]
    if not ids:
        return 0
    linked = count_changed_rows(session,
        update(FarmerAttachment)
        .where(FarmerAttachment.id.in_(ids), FarmerAttachment.handoff_ticket_id.is_(None))
        .values(handoff_ticket_id=ticket.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(ticket, ["attachments"])
    return linked


def _size_text(size: Optional[int]) -> str:
    if not size:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def attachment_label(attachment: FarmerAttachment) -> str:
    """A short label for the console: 语音，12秒 / 照片 / 视频，15秒，3.2 MB / 文件 价格.xlsx，35 KB."""
    parts = [KIND_NAMES.get(attachment.kind, "文件")]
    if attachment.file_name:
        parts[0] += f" {attachment.file_name}"
    if attachment.duration_seconds:
        parts.append(f"{attachment.duration_seconds}秒")
    if attachment.kind in _SIZED and attachment.file_size:
        parts.append(_size_text(attachment.file_size))
    return "，".join(parts)


def _describe_one(attachment: FarmerAttachment) -> str:
    text = _COUNTED.get(attachment.kind, "一个文件")
    if attachment.duration_seconds:
        text += f"，{attachment.duration_seconds}秒"
    if attachment.kind == "document" and attachment.file_name:
        text += f"“{attachment.file_name}”"
    if attachment.caption:
        caption = attachment.caption
        caption = caption if len(caption) <= CAPTION_IN_QUESTION else caption[:CAPTION_IN_QUESTION] + "…"
        text += f"，附言：{caption}"
    return text


def describe_attachments(attachments: Iterable[FarmerAttachment]) -> str:
    """What the farmer sent, as a ticket's question when they typed none: （农户发来一条语音，12秒）."""
    described = [_describe_one(attachment) for attachment in attachments]
    if not described:
        return ""
    return f"（农户发来{'；'.join(described)}）"
