"""Voice messages, photos, videos and files from farmers are noted in the knowledge DB (through the real PTB Application
against the fake Bot API), and the handoff ticket the farmer then asks for carries them to the officer."""
from __future__ import annotations

from sqlalchemy import select

import actions.knowledge_access as action_knowledge
from actions.handoff import ActionRequestHuman
from bot.farmer_media import MediaNotes
from bot.telegram_chat import DOCUMENT_REPLY, HANDOFF_BUTTONS, PHOTO_REPLY, VIDEO_REPLY, VOICE_REPLY
from knowledge.db import KnowledgeStore, open_store
from knowledge.handoff.attachments import SentMedia
from knowledge.models import FarmerAttachment, HandoffTicket
from knowledge.people.farmers import find_farmer
from tests.actions.conftest import make_tracker, run_action
from tests.gateway import fake_telegram as tg
from tests.gateway.harness import handled_so_far

FARMER = 5552001


def _attachments(store: KnowledgeStore, telegram_user: int):
    def work(session):
        farmer = find_farmer(session, f"tg-{telegram_user}")
        if farmer is None:
            return []
        return session.scalars(select(FarmerAttachment).where(FarmerAttachment.farmer_id == farmer.id)
                               .order_by(FarmerAttachment.id)).all()

    return store.run_blocking(work)


async def test_a_voice_message_then_the_officer_button_opens_a_ticket_that_carries_it(
    start_gateway, fake_rasa, fake_telegram, store, monkeypatch
) -> None:
    await start_gateway(fake_rasa.url)
    voice = {"file_id": "voice-file-1", "file_unique_id": "vu1", "duration": 12, "mime_type": "audio/ogg",
             "file_size": 23456}
    await fake_telegram.enqueue(tg.message(FARMER, voice=voice))
    assert (await fake_telegram.wait_for("sendMessage"))[0].params["text"] == VOICE_REPLY
    [noted] = _attachments(store, FARMER)
    assert (noted.kind, noted.telegram_file_id, noted.duration_seconds, noted.file_size, noted.mime_type) == \
        ("voice", "voice-file-1", 12, 23456, "audio/ogg")
    assert noted.handoff_ticket_id is None and noted.created_at is not None

    await fake_telegram.enqueue(tg.button_press(FARMER, "/request_human"))
    await fake_telegram.wait_for("sendMessage", 2)
    assert fake_rasa.received[-1]["message"] == "/request_human"
    assert fake_rasa.received[-1]["sender"] == f"tg-{FARMER}"
    # What Rasa then runs: the real action, on the gateway's knowledge DB, for the same sender.
    monkeypatch.setattr(action_knowledge, "_store", lambda: store)
    tracker = make_tracker("request_human", text="/request_human", sender_id=f"tg-{FARMER}",
                           metadata={"channel": "telegram", "chat_id": str(FARMER)})
    dispatcher, _ = await run_action(ActionRequestHuman(), tracker)

    def ticket_of_farmer(session):
        ticket = session.scalars(select(HandoffTicket).where(HandoffTicket.conversation_id == f"tg-{FARMER}")).one()
        return ticket.question, [(a.kind, a.telegram_file_id) for a in ticket.attachments]

    question, attached = store.run_blocking(ticket_of_farmer)
    assert question == "（农户发来一条语音，12秒）"
    assert attached == [("voice", "voice-file-1")]
    assert dispatcher.messages[0]["question"] == "（您发来一条语音，12秒）"


async def test_the_largest_photo_with_its_caption_and_a_document_are_noted(
    start_gateway, fake_rasa, fake_telegram, store
) -> None:
    farmer = FARMER + 1
    await start_gateway(fake_rasa.url)
    photo = [{"file_id": "small", "file_unique_id": "ps", "width": 90, "height": 90, "file_size": 900},
             {"file_id": "large", "file_unique_id": "pl", "width": 1280, "height": 960, "file_size": 180000}]
    document = {"file_id": "doc-1", "file_unique_id": "du1", "file_name": "化验单.pdf", "mime_type": "application/pdf",
                "file_size": 40960}
    await fake_telegram.enqueue(tg.message(farmer, photo=photo, caption="<b>叶子</b>发黄了"))
    await fake_telegram.enqueue(tg.message(farmer, document=document))
    sent = await fake_telegram.wait_for("sendMessage", 2)
    assert [call.params["text"] for call in sent] == [PHOTO_REPLY, DOCUMENT_REPLY]
    rows = _attachments(store, farmer)
    assert [(row.kind, row.telegram_file_id, row.file_size, row.caption) for row in rows] == [
        ("photo", "large", 180000, "<b>叶子</b>发黄了"),
        ("document", "doc-1", 40960, None),
    ]
    assert rows[1].file_name == "化验单.pdf" and rows[1].mime_type == "application/pdf"
    assert fake_rasa.received == []


async def test_a_video_and_a_video_note_are_offered_to_an_officer_and_go_with_the_ticket(
    start_gateway, fake_rasa, fake_telegram, store, monkeypatch
) -> None:
    farmer = FARMER + 3
    await start_gateway(fake_rasa.url)
    video = {"file_id": "video-1", "file_unique_id": "vid1", "width": 1280, "height": 720, "duration": 15,
             "mime_type": "video/mp4", "file_size": 3355443, "file_name": "猪.mp4"}
    video_note = {"file_id": "round-1", "file_unique_id": "rn1", "length": 384, "duration": 8, "file_size": 420000}
    await fake_telegram.enqueue(tg.message(farmer, video=video, caption="猪不吃食，拉稀"))
    await fake_telegram.enqueue(tg.message(farmer, video_note=video_note))
    sent = await fake_telegram.wait_for("sendMessage", 2)
    assert [call.params["text"] for call in sent] == [VIDEO_REPLY, VIDEO_REPLY]
    for call in sent:
        keyboard = call.params["reply_markup"]["inline_keyboard"]
        assert [(b["text"], b["callback_data"]) for row in keyboard for b in row] == \
            [(button.title, button.payload) for button in HANDOFF_BUTTONS]
    rows = _attachments(store, farmer)
    assert [(row.kind, row.telegram_file_id, row.duration_seconds, row.file_size, row.mime_type, row.caption)
            for row in rows] == [
        ("video", "video-1", 15, 3355443, "video/mp4", "猪不吃食，拉稀"),
        ("video_note", "round-1", 8, 420000, "video/mp4", None),
    ]
    assert rows[0].file_name == "猪.mp4" and rows[1].file_name is None
    assert fake_rasa.received == []

    monkeypatch.setattr(action_knowledge, "_store", lambda: store)
    tracker = make_tracker("request_human", text="/request_human", sender_id=f"tg-{farmer}",
                           metadata={"channel": "telegram", "chat_id": str(farmer)})
    await run_action(ActionRequestHuman(), tracker)

    def ticket_of_farmer(session):
        ticket = session.scalars(select(HandoffTicket).where(HandoffTicket.conversation_id == f"tg-{farmer}")).one()
        return ticket.question, [a.telegram_file_id for a in ticket.attachments]

    question, attached = store.run_blocking(ticket_of_farmer)
    assert question == "（农户发来一段视频，15秒，附言：猪不吃食，拉稀；一条视频消息，8秒）"
    assert attached == ["video-1", "round-1"]


async def test_media_in_a_group_that_is_not_for_the_bot_is_not_noted(
    start_gateway, fake_rasa, fake_telegram, store
) -> None:
    farmer, group = FARMER + 2, -100900900
    await start_gateway(fake_rasa.url)
    photo = [{"file_id": "group-photo", "file_unique_id": "gp", "width": 90, "height": 90}]
    await fake_telegram.enqueue(tg.message(farmer, chat_id=group, chat_type="group", photo=photo))
    await fake_telegram.enqueue(tg.mention(farmer, "在吗", group))
    await fake_telegram.wait_for("sendMessage")
    await handled_so_far(fake_telegram, farmer)
    assert _attachments(store, farmer) == []


async def test_media_in_a_group_that_names_the_bot_in_its_caption_is_answered_and_noted(
    start_gateway, fake_rasa, fake_telegram, store
) -> None:
    farmer, group = FARMER + 13, -100900901
    await start_gateway(fake_rasa.url)
    tag = f"@{tg.BOT_USERNAME}"
    photo = [{"file_id": "group-photo-2", "file_unique_id": "gp2", "width": 90, "height": 90}]
    await fake_telegram.enqueue(tg.message(farmer, chat_id=group, chat_type="group", photo=photo,
                                           caption=f"{tag} 这叶子咋了",
                                           caption_entities=[{"type": "mention", "offset": 0, "length": len(tag)}]))
    reply = (await fake_telegram.wait_for("sendMessage"))[0]
    assert reply.params["text"].startswith("收到照片")
    assert [(a.kind, a.caption) for a in _attachments(store, farmer)] == [("photo", f"{tag} 这叶子咋了")]


async def test_a_database_failure_while_noting_is_logged_and_returns_false(tmp_path, caplog) -> None:
    broken = open_store(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    try:
        noted = await MediaNotes(broken).note("tg-5552999", "telegram", "5552999", "老赵", SentMedia("voice", "v"))
    finally:
        broken.dispose()
    assert noted is False
    assert "Could not note a voice" in caplog.text
