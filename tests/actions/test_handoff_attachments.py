"""A handoff ticket takes along the voice messages, photos, videos and files the farmer sent in the last 30 minutes
(noted by the gateway), and says what was sent when the farmer typed no question."""
from __future__ import annotations

import datetime as dt
import time
from typing import List, Optional

import pytest
from sqlalchemy import select

from actions.handoff import NO_QUESTION, ActionRequestHuman
from knowledge.db import session_scope
from knowledge.handoff.attachments import (
    _COUNTED,
    KIND_NAMES,
    SentMedia,
    attachment_label,
    describe_attachments,
    remember_attachment,
)
from knowledge.models import FarmerAttachment, HandoffTicket, utcnow
from knowledge.people.farmers import remember_farmer
from tests.actions.conftest import make_tracker, message, run_action

SENDER = "tg-424242"


def _send(factory, *media: SentMedia, minutes_ago: float = 1, sender: str = SENDER) -> None:
    with session_scope(factory) as session:
        farmer = remember_farmer(session, sender, "telegram", sender[3:], "老周")
        for item in media:
            remember_attachment(session, farmer.id, item, now=utcnow() - dt.timedelta(minutes=minutes_ago))


def _typed(text: str, minutes_ago: float) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "nlu_fallback"}},
            "timestamp": time.time() - minutes_ago * 60}


async def _ask_for_a_person(factory, events: Optional[List[dict]] = None) -> HandoffTicket:
    tracker = make_tracker("request_human", text="/request_human", events=events, sender_id=SENDER,
                           metadata={"channel": "telegram", "chat_id": SENDER[3:]})
    dispatcher, _ = await run_action(ActionRequestHuman(), tracker)
    with session_scope(factory) as session:
        ticket = session.scalars(select(HandoffTicket).order_by(HandoffTicket.id.desc())).first()
        ticket.attachments  # noqa: B018 (loaded before the session closes)
        told = message(dispatcher, "utter_handoff_created")["question"]
        # The farmer reads our note about them addressed to them: （农户发来…） → （您发来…）.
        assert told == ticket.question.replace("（农户", "（您", 1)
        return ticket


async def test_a_voice_message_alone_becomes_the_question_and_goes_with_the_ticket(knowledge_factory) -> None:
    _send(knowledge_factory, SentMedia("voice", "v-1", duration_seconds=12, file_size=20480))
    ticket = await _ask_for_a_person(knowledge_factory)
    assert ticket.question == "（农户发来一条语音，12秒）"
    assert [(a.kind, a.telegram_file_id, a.duration_seconds) for a in ticket.attachments] == [("voice", "v-1", 12)]


@pytest.mark.parametrize(("media", "described", "label"), [
    (SentMedia("voice", "v", duration_seconds=12, file_size=20480), "一条语音，12秒", "语音，12秒"),
    (SentMedia("audio", "a", duration_seconds=95, file_name="录音.mp3"), "一段录音，95秒", "录音 录音.mp3，95秒"),
    (SentMedia("photo", "p", file_size=180000), "一张照片", "照片"),
    (SentMedia("video", "v", duration_seconds=15, file_size=3355443, mime_type="video/mp4"),
     "一段视频，15秒", "视频，15秒，3.2 MB"),
    (SentMedia("video_note", "n", duration_seconds=8, file_size=420000), "一条视频消息，8秒", "视频消息，8秒，410 KB"),
    (SentMedia("document", "d", file_size=40960, file_name="化验单.pdf"),
     "一个文件“化验单.pdf”", "文件 化验单.pdf，40 KB"),
])
def test_every_kind_is_described_in_chinese(knowledge_factory, media, described, label) -> None:
    with session_scope(knowledge_factory) as session:
        farmer = remember_farmer(session, SENDER, "telegram", SENDER[3:], "老周")
        attachment = remember_attachment(session, farmer.id, media)
        assert describe_attachments([attachment]) == f"（农户发来{described}）"
        assert attachment_label(attachment) == label


def test_the_kinds_listed_on_the_model_all_have_chinese_names() -> None:
    assert set(KIND_NAMES) == set(_COUNTED) == set(FarmerAttachment.KINDS)


async def test_a_video_with_its_caption_and_a_video_note_are_described(knowledge_factory) -> None:
    _send(knowledge_factory, SentMedia("video", "vid-1", duration_seconds=15, caption="猪不吃食"), minutes_ago=3)
    _send(knowledge_factory, SentMedia("video_note", "note-1", duration_seconds=8), minutes_ago=2)
    ticket = await _ask_for_a_person(knowledge_factory)
    assert ticket.question == "（农户发来一段视频，15秒，附言：猪不吃食；一条视频消息，8秒）"
    assert [(a.kind, a.telegram_file_id) for a in ticket.attachments] == [("video", "vid-1"), ("video_note", "note-1")]


async def test_several_media_with_a_caption_are_described_in_order(knowledge_factory) -> None:
    _send(knowledge_factory, SentMedia("photo", "p-1", caption="叶子发黄了"), minutes_ago=3)
    _send(knowledge_factory, SentMedia("document", "d-1", file_name="化验单.pdf"), minutes_ago=2)
    ticket = await _ask_for_a_person(knowledge_factory)
    assert ticket.question == "（农户发来一张照片，附言：叶子发黄了；一个文件“化验单.pdf”）"
    assert [a.telegram_file_id for a in ticket.attachments] == ["p-1", "d-1"]


async def test_a_question_typed_with_the_photo_stays_the_question(knowledge_factory) -> None:
    _send(knowledge_factory, SentMedia("photo", "p-2"))
    ticket = await _ask_for_a_person(knowledge_factory, [_typed("玉米叶子上有黑斑怎么办", minutes_ago=2)])
    assert ticket.question == "玉米叶子上有黑斑怎么办"
    assert [a.telegram_file_id for a in ticket.attachments] == ["p-2"]


async def test_an_old_question_does_not_stand_for_a_new_photo(knowledge_factory) -> None:
    _send(knowledge_factory, SentMedia("photo", "p-3"))
    ticket = await _ask_for_a_person(knowledge_factory, [_typed("宅基地怎么批", minutes_ago=24 * 60)])
    assert ticket.question == "（农户发来一张照片）"


def _answer(factory, ticket: HandoffTicket) -> None:
    """An officer answers the ticket: the farmer's next request for a person opens a new one."""
    with session_scope(factory) as session:
        session.get(HandoffTicket, ticket.id).status = "answered"


async def test_old_media_and_media_of_an_earlier_ticket_stay_behind(knowledge_factory) -> None:
    _send(knowledge_factory, SentMedia("voice", "too-old", duration_seconds=5), minutes_ago=45)
    _send(knowledge_factory, SentMedia("voice", "someone-else"), sender="tg-999")
    first = await _ask_for_a_person(knowledge_factory, [_typed("宅基地怎么批", minutes_ago=1)])
    assert first.question == "宅基地怎么批" and first.attachments == []
    _answer(knowledge_factory, first)
    _send(knowledge_factory, SentMedia("photo", "p-4"))
    second = await _ask_for_a_person(knowledge_factory)
    _answer(knowledge_factory, second)
    third = await _ask_for_a_person(knowledge_factory)
    assert [a.telegram_file_id for a in second.attachments] == ["p-4"]
    assert third.attachments == [] and third.question == NO_QUESTION
    with session_scope(knowledge_factory) as session:
        unlinked = session.scalars(select(FarmerAttachment.telegram_file_id)
                                   .where(FarmerAttachment.handoff_ticket_id.is_(None))).all()
    assert sorted(unlinked) == ["someone-else", "too-old"]
