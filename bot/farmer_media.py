"""Voice messages, photos, videos and files from farmers on Telegram: noted in the knowledge DB
(knowledge.handoff.attachments) so that a handoff ticket opened soon after carries them to the officer."""
from __future__ import annotations

import logging
from typing import Optional

from telegram import Message

from knowledge.db import KnowledgeStore
from knowledge.handoff.attachments import SentMedia, remember_attachment
from knowledge.masking import mask_sender_id
from knowledge.people.farmers import remember_farmer

logger = logging.getLogger(__name__)


def sent_media(message: Message) -> Optional[SentMedia]:
    """What Telegram says about the message's voice, audio, photo, video, video note or document; None for others."""
    caption = message.caption
    if message.voice is not None:
        voice = message.voice
        return SentMedia("voice", voice.file_id, _seconds(voice.duration), voice.file_size,
                         mime_type=voice.mime_type, caption=caption)
    if message.audio is not None:
        audio = message.audio
        return SentMedia("audio", audio.file_id, _seconds(audio.duration), audio.file_size,
                         file_name=audio.file_name, mime_type=audio.mime_type, caption=caption)
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        return SentMedia("photo", largest.file_id, file_size=largest.file_size, caption=caption)
    if message.video is not None:
        video = message.video
        return SentMedia("video", video.file_id, _seconds(video.duration), video.file_size,
                         file_name=video.file_name, mime_type=video.mime_type, caption=caption)
    if message.video_note is not None:
        # A round video message: always MP4, Telegram gives no mime type, name or caption.
        note = message.video_note
        return SentMedia("video_note", note.file_id, _seconds(note.duration), note.file_size, mime_type="video/mp4")
    if message.document is not None:
        document = message.document
        return SentMedia("document", document.file_id, file_size=document.file_size,
                         file_name=document.file_name, mime_type=document.mime_type, caption=caption)
    return None


def _seconds(duration) -> Optional[int]:
    # PTB 22 gives durations as int or timedelta depending on its settings.
    if duration is None:
        return None
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else int(duration)


class MediaNotes:
    """Writes the farmers' media messages to the knowledge DB."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def note(self, sender: str, channel: str, chat_id: Optional[str], display_name: Optional[str],
                   media: SentMedia, private: bool = True) -> bool:
        """Note the media for the farmer; False (and an ERROR line) when the database is unavailable.

        A failure never stops the farmer's reply: at worst the officer misses the attachment.
        """

        def work(session) -> None:
            farmer = remember_farmer(session, sender, channel, chat_id, display_name, private_chat=private)
            remember_attachment(session, farmer.id, media)

        try:
            await self._store.run(work)
        except Exception:
            logger.exception("Could not note a %s from sender %s", media.kind, mask_sender_id(sender))
            return False
        logger.info("Noted a %s from sender %s", media.kind, mask_sender_id(sender))
        return True
