"""Farmers' voice messages, photos, videos and files on handoff tickets: shown (escaped) in the inbox and on the ticket,
fetched through the Bot API (the gateway tests' fake) when the console has a bot token, refused to other
regions and roles, and never leaking the token."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from console.app import create_app
from console.telegram_files import ONLY_IN_TELEGRAM, file_base_url
from knowledge.catalog.lookup import find_region
from knowledge.models import Farmer, FarmerAttachment, HandoffTicket
from scripts.demo_knowledge import TODAY
from settings import PROJECT_ROOT, Settings
from tests.console.conftest import sign_in
from tests.gateway.fake_telegram import TOKEN, FakeTelegram
from tests.gateway.harness import fake_telegram

__all__ = ["fake_telegram"]

VOICE = b"OggS\x00fake-opus-voice"
CAPTION = "<script>alert(1)</script>叶子发黄，电话13812345678"


def _ticket_of_farmer_1001(knowledge, question: str, asked_at: dt.datetime, *attachments: dict) -> tuple:
    """A 藁城区 ticket of farmer tg-1001 carrying these attachments (sent a minute or two before); returns the ids."""
    with knowledge() as session:
        farmer = session.scalars(select(Farmer).where(Farmer.sender_id == "tg-1001")).one()
        ticket = HandoffTicket(farmer=farmer, question=question, conversation_id="tg-1001",
                               region=find_region(session, "藁城区"), created_at=asked_at)
        rows = [FarmerAttachment(farmer=farmer, handoff_ticket=ticket,
                                 created_at=asked_at - dt.timedelta(minutes=len(attachments) - index), **fields)
                for index, fields in enumerate(attachments)]
        session.add_all([ticket, *rows])
        session.commit()
        return (ticket.id, *(row.id for row in rows))


def _ticket_with_media(knowledge) -> tuple:
    """A ticket with a photo (with caption) and an HTML file."""
    return _ticket_of_farmer_1001(
        knowledge, "（农户发来一张照片，附言：叶子发黄）", dt.datetime(2026, 11, 21, 9, 0),
        dict(kind="photo", telegram_file_id="photo-1001", file_size=180000, caption=CAPTION),
        dict(kind="document", telegram_file_id="html-1001", file_name="报告.html", mime_type="text/html",
             file_size=2048),
    )


def _ticket_with_videos(knowledge) -> tuple:
    """A ticket with a video and a round video note (no mime type)."""
    return _ticket_of_farmer_1001(
        knowledge, "（农户发来一段视频，15秒；一条视频消息，8秒）", dt.datetime(2026, 11, 21, 10, 0),
        dict(kind="video", telegram_file_id="video-1001", duration_seconds=15, file_size=3355443,
             mime_type="video/mp4"),
        dict(kind="video_note", telegram_file_id="round-1001", duration_seconds=8, file_size=420000),
    )


def _console_log(caplog) -> str:
    """Everything logged but the servers' access lines (the fake Bot API's show the token, as Telegram's own would)."""
    return "\n".join(record.getMessage() for record in caplog.records if record.name != "aiohttp.access")


@pytest.fixture
async def bot_client(aiohttp_client, console_settings: Settings, fake_telegram: FakeTelegram):
    """The console with TELEGRAM_BOT_TOKEN set, its Bot API being the fake server."""
    settings = Settings(knowledge_db_url=console_settings.knowledge_db_url,
                        tracker_db_url=console_settings.tracker_db_url, console_secret_key="test-secret-key",
                        telegram_bot_token=TOKEN, telegram_api_base_url=f"{fake_telegram.base_url}/bot",
                        upload_dir=console_settings.upload_dir)
    app = create_app(settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY)
    return await aiohttp_client(app)


def test_the_file_address_follows_the_api_address() -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"


async def test_inbox_and_ticket_show_the_attachments_escaped_without_a_token(client, knowledge) -> None:
    ticket_id, photo_id, _ = _ticket_with_media(knowledge)
    await sign_in(client, "gaocheng")
    inbox = await (await client.get("/handoff")).text()
    assert "📎 照片" in inbox and "文件 报告.html，2 KB" in inbox
    page = await (await client.get(f"/handoff/{ticket_id}")).text()
    assert "农户发来的文件" in page and "发送于 2026-11-21 16:58 北京时间" in page  # 08:58 UTC
    assert "&lt;script&gt;alert(1)&lt;/script&gt;叶子发黄" in page and "<script>alert(1)" not in page
    assert "138****5678" in page and "13812345678" not in page  # captions are masked like everything else
    assert ONLY_IN_TELEGRAM in page and f"/attachments/{photo_id}" not in page
    response = await client.get(f"/handoff/{ticket_id}/attachments/{photo_id}")
    assert response.status == 404 and ONLY_IN_TELEGRAM in await response.text()


async def test_the_admin_inbox_shows_the_voice_message_of_another_region(client) -> None:
    await sign_in(client, "admin")
    assert "📎 语音，8秒" in await (await client.get("/handoff")).text()


async def test_an_officer_opens_a_voice_message_through_the_bot_api(
    bot_client, knowledge, fake_telegram, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_telegram.add_file("demo-voice-2002", "voice/file_7.oga", VOICE)
    await sign_in(bot_client, "fengtai")
    page = await (await bot_client.get("/handoff/2")).text()
    assert 'href="/handoff/2/attachments/1"' in page and ONLY_IN_TELEGRAM not in page
    response = await bot_client.get("/handoff/2/attachments/1")
    assert response.status == 200 and await response.read() == VOICE
    assert response.headers["Content-Type"] == "audio/ogg"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Cache-Control"] == "no-store"
    assert [call.params["file_id"] for call in fake_telegram.calls_to("getFile")] == ["demo-voice-2002"]
    assert [call.params["path"] for call in fake_telegram.calls_to("download")] == ["voice/file_7.oga"]
    assert "Attachment 1 of ticket 2 opened by fengtai" in _console_log(caplog)
    assert TOKEN.split(":")[1] not in _console_log(caplog)


async def test_a_farmers_html_file_is_only_downloaded_never_shown(bot_client, knowledge, fake_telegram) -> None:
    ticket_id, _, page_id = _ticket_with_media(knowledge)
    fake_telegram.add_file("html-1001", "documents/file_9.html", b"<script>alert(document.cookie)</script>")
    await sign_in(bot_client, "gaocheng")
    response = await bot_client.get(f"/handoff/{ticket_id}/attachments/{page_id}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A.html" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_video_and_a_video_note_are_labelled_and_play_in_the_browser(
    bot_client, knowledge, fake_telegram
) -> None:
    ticket_id, video_id, note_id = _ticket_with_videos(knowledge)
    fake_telegram.add_file("video-1001", "videos/file_3.mp4", b"fake-mp4-video")
    fake_telegram.add_file("round-1001", "video_notes/file_4.mp4", b"fake-mp4-note")
    await sign_in(bot_client, "gaocheng")
    assert "📎 视频，15秒，3.2 MB" in await (await bot_client.get("/handoff")).text()
    page = await (await bot_client.get(f"/handoff/{ticket_id}")).text()
    assert "视频消息，8秒，410 KB" in page and f'href="/handoff/{ticket_id}/attachments/{note_id}"' in page
    for attachment_id, body, name in ((video_id, b"fake-mp4-video", f"video-{video_id}.mp4"),
                                      (note_id, b"fake-mp4-note", f"video_note-{note_id}.mp4")):
        response = await bot_client.get(f"/handoff/{ticket_id}/attachments/{attachment_id}")
        assert response.status == 200 and await response.read() == body
        assert response.headers["Content-Type"] == "video/mp4"
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert f"filename*=UTF-8''{name}" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("username", "status"), [("gaocheng", 403), ("reviewer", 403)])
async def test_other_regions_and_roles_get_403_and_telegram_is_not_asked(
    bot_client, fake_telegram, username, status
) -> None:
    fake_telegram.add_file("demo-voice-2002", "voice/file_7.oga", VOICE)
    await sign_in(bot_client, username)
    response = await bot_client.get("/handoff/2/attachments/1")
    assert response.status == status and "<h1>没有权限</h1>" in await response.text()
    assert fake_telegram.calls_to("getFile") == [] and fake_telegram.calls_to("download") == []


async def test_an_attachment_of_another_ticket_is_not_found(bot_client, knowledge) -> None:
    ticket_id, _, _ = _ticket_with_media(knowledge)
    await sign_in(bot_client, "admin")
    response = await bot_client.get(f"/handoff/{ticket_id}/attachments/1")  # attachment 1 is ticket 2's
    assert response.status == 404 and "这个工单没有这个附件" in await response.text()


async def test_a_file_telegram_will_not_give_is_explained_without_the_token(
    bot_client, fake_telegram, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    await sign_in(bot_client, "admin")  # no file added: the fake's getFile answers "invalid file_id"
    response = await bot_client.get("/handoff/2/attachments/1")
    page = await response.text()
    assert response.status == 502 and "Telegram 上已经找不到这个文件了" in page
    assert TOKEN.split(":")[1] not in page and TOKEN.split(":")[1] not in _console_log(caplog)
    fake_telegram.add_file("demo-voice-2002", "voice/file_7.oga", VOICE)
    fake_telegram.fail_next("getFile", 500, "Internal Server Error")
    response = await bot_client.get("/handoff/2/attachments/1")
    assert response.status == 502 and "暂时取不到这个文件" in await response.text()
    assert "Telegram getFile refused a file: Internal Server Error" in _console_log(caplog)
