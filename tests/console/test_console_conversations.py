"""Conversations read from a tracker store written by Rasa itself: filters, transcript, review, corrections,
the NLU export, masking and escaping, and proof that the tracker store is never written."""
from __future__ import annotations

import hashlib
import html
import json
import re

import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from knowledge.conversations.tracker import TrackerReader
from knowledge.models import AuditLog, ConversationReview, MessageCorrection
from tests.console.conftest import sign_in

ALL = {"tg-1001", "web-5f3a", "tg-2002"}


def _senders(page: str) -> set:
    return set(re.findall(r'href="/conversations/([^"]+)"', page))


@pytest.mark.parametrize(("query", "expected"), [
    ("", ALL),
    ("channel=telegram", {"tg-1001", "tg-2002"}),
    ("channel=web", {"web-5f3a"}),
    ("intent=ask_price", {"tg-1001"}),
    ("confidence_below=0.6", {"web-5f3a", "tg-2002"}),
    ("fell_back=1", {"web-5f3a"}),
    ("handed_off=1", {"web-5f3a", "tg-2002"}),  # web-5f3a ran action_request_human; tg-2002 has a ticket
    ("negative=1", {"tg-1001"}),
    ("since=2026-11-21", {"tg-2002"}),
    ("until=2026-11-20", {"tg-1001", "web-5f3a"}),
    ("since=2026-11-20&until=2026-11-20&channel=web", {"web-5f3a"}),
    ("reviewed=no", ALL),
    ("reviewed=yes", set()),
])
async def test_conversation_filters(client, query, expected) -> None:
    await sign_in(client, "reviewer")
    response = await client.get(f"/conversations?{query}")
    assert response.status == 200
    assert _senders(await response.text()) == expected


async def test_region_filter_uses_the_farmer_table(client) -> None:
    await sign_in(client, "reviewer")
    page = await (await client.get("/conversations")).text()
    region_id = re.search(r'<option value="(\d+)" >　*藁城区', page).group(1)
    assert _senders(await (await client.get(f"/conversations?region={region_id}")).text()) == {"tg-1001", "web-5f3a"}


async def test_transcript_shows_nlu_replies_and_feedback(client) -> None:
    await sign_in(client, "reviewer")
    page = await (await client.get("/conversations/tg-1001")).text()
    assert "玉米多少钱一斤" in page
    assert "ask_price" in page and "0.97" in page and "product=玉米" in page
    assert "玉米 最新价格 1.16 元/斤" in page and "👍 有用" in page
    assert "农户评价：👎 没用" in page
    assert "老王" in page and "藁城区" in page


async def test_farmer_text_is_escaped_and_personal_numbers_masked_everywhere(client) -> None:
    await sign_in(client, "admin")
    for path in ("/conversations", "/conversations/web-5f3a", "/handoff", "/handoff/1", "/"):
        page = await (await client.get(path)).text()
        assert "<script>alert(1)" not in page, path
        assert "13812345678" not in page and "110101199003071234" not in page, path
        assert "13912345678" not in page, path  # the farmer's display name
    transcript = await (await client.get("/conversations/web-5f3a")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in transcript
    assert "138****5678" in transcript and "1101**********1234" in transcript
    assert "— 转给信息员 —" in transcript and "nlu_fallback" in transcript


async def test_review_tag_and_flag_are_saved_audited_and_filterable(client, knowledge) -> None:
    token = await sign_in(client, "reviewer")
    response = await client.post("/conversations/tg-1001/review", data={
        "csrf_token": token, "reviewed": "1", "flagged": "1", "tags": "价格， 错答,价格", "note": "价格来源太旧"})
    page = await response.text()
    assert "审核状态已保存" in page and "reviewer 于" in page
    with knowledge() as session:
        review = session.scalars(select(ConversationReview)).one()
        assert (review.reviewed, review.flagged, review.tags) == (True, True, "价格,错答")
        assert review.reviewed_by == "reviewer"
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "conversation_review")).one()
        assert audit.actor == "reviewer" and json.loads(audit.after)["tags"] == "价格,错答"
    assert _senders(await (await client.get("/conversations?reviewed=yes")).text()) == {"tg-1001"}
    assert _senders(await (await client.get("/conversations?reviewed=no")).text()) == {"web-5f3a", "tg-2002"}
    assert _senders(await (await client.get("/conversations?flagged=1")).text()) == {"tg-1001"}
    assert _senders(await (await client.get("/conversations?tag=错答")).text()) == {"tg-1001"}
    assert _senders(await (await client.get("/conversations?tag=错")).text()) == set()  # whole tags only
    listing = await (await client.get("/conversations")).text()
    assert '>错答</a>' in listing and "已审核" in listing


async def _event_id(client, sender: str, text_fragment: str) -> int:
    page = await (await client.get(f"/conversations/{sender}")).text()
    match = re.search(r'id="m(\d+)">\s*<div class="bubble">' + re.escape(text_fragment), page)
    return int(match.group(1))


async def test_corrections_are_checked_saved_and_exported_without_known_examples(client, knowledge) -> None:
    token = await sign_in(client, "reviewer")
    event = await _event_id(client, "tg-2002", "俺家粮补咋还没到")
    page = await (await client.get("/conversations/tg-2002")).text()
    # The form starts from the predicted entities in Rasa's inline form.
    predicted = ('俺家[粮补]{&#34;entity&#34;: &#34;policy_topic&#34;, '
                 '&#34;value&#34;: &#34;耕地地力保护补贴&#34;}咋还没到')
    assert f'value="{predicted}"' in page
    wrong_text = await client.post(f"/conversations/tg-2002/messages/{event}", data={
        "csrf_token": token, "intent": "ask_policy", "annotated": "俺家[粮补](policy_topic)什么时候发"})
    assert "必须和农户的原话一字不差" in await wrong_text.text()
    wrong_entity = await client.post(f"/conversations/tg-2002/messages/{event}", data={
        "csrf_token": token, "intent": "ask_policy", "annotated": "俺家[粮补](crop)咋还没到"})
    assert "不认识的实体：crop" in await wrong_entity.text()
    wrong_intent = await client.post(f"/conversations/tg-2002/messages/{event}", data={
        "csrf_token": token, "intent": "make_coffee", "annotated": "俺家粮补咋还没到"})
    assert "不在 domain.yml 里" in await wrong_intent.text()
    saved = await client.post(f"/conversations/tg-2002/messages/{event}", data={
        "csrf_token": token, "intent": "ask_policy", "annotated": "俺家[粮补](policy_topic)咋还没到"})
    assert "更正已保存" in await saved.text()

    # The fallback message: a correction whose text is already in data/nlu is left out of the export.
    fallback = await _event_id(client, "web-5f3a", "&lt;script&gt;")
    await client.post(f"/conversations/web-5f3a/messages/{fallback}", data={
        "csrf_token": token, "intent": "request_human",
        "annotated": "<script>alert(1)</script>我电话13812345678，身份证110101199003071234"})
    price = await _event_id(client, "tg-1001", "玉米多少钱一斤")
    await client.post(f"/conversations/tg-1001/messages/{price}", data={
        "csrf_token": token, "intent": "ask_price", "annotated": "[玉米](product)多少钱一斤"})
    with knowledge() as session:
        corrected = select(MessageCorrection.intent).where(MessageCorrection.event_id == event)
        assert session.scalar(corrected) == "ask_policy"
        assert session.scalars(select(AuditLog).where(AuditLog.entity == "message_correction")).all()

    exported = await client.get("/training-data/nlu.yml")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="console_corrections.yml"'
    body = await exported.text()
    data = yaml.safe_load(body)
    by_intent = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert by_intent["ask_policy"] == "- 俺家[粮补](policy_topic)咋还没到\n"
    assert "ask_price" not in by_intent  # 玉米多少钱一斤 is already in data/nlu/prices.yml
    assert "13812345678" not in body and "138****5678" in by_intent["request_human"]
    preview = await (await client.get("/training-data")).text()
    assert "已在训练数据中，已跳过" in preview and "玉米多少钱一斤" in preview


async def test_the_exported_yaml_is_valid_rasa_training_data(client, tmp_path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    token = await sign_in(client, "admin")
    event = await _event_id(client, "tg-2002", "俺家粮补咋还没到")
    await client.post(f"/conversations/tg-2002/messages/{event}", data={
        "csrf_token": token, "intent": "ask_policy",
        "annotated": '俺家[粮补]{"entity": "policy_topic", "value": "耕地地力保护补贴"}咋还没到'})
    path = tmp_path / "corrections.yml"
    path.write_text(await (await client.get("/training-data/nlu.yml")).text(), encoding="utf-8")
    examples = load_data(str(path)).training_examples
    pairs = [(example.get("intent"), example.get("text")) for example in examples]
    assert pairs == [("ask_policy", "俺家粮补咋还没到")]
    assert examples[0].get("entities")[0]["value"] == "耕地地力保护补贴"


async def test_the_tracker_store_is_opened_read_only_and_never_changed(client, tracker_path) -> None:
    digest = hashlib.sha256(tracker_path.read_bytes()).hexdigest()
    token = await sign_in(client, "admin")
    await client.get("/conversations")
    await client.get("/conversations/tg-1001")
    await client.post("/conversations/tg-1001/review", data={"csrf_token": token, "reviewed": "1"})
    await client.get("/")
    assert hashlib.sha256(tracker_path.read_bytes()).hexdigest() == digest
    reader = TrackerReader(f"sqlite:///{tracker_path}")
    with pytest.raises(OperationalError, match="readonly"), reader.engine.begin() as connection:
        connection.execute(text("DELETE FROM events"))
    reader.close()


def test_a_missing_tracker_store_is_not_created(tmp_path) -> None:
    reader = TrackerReader(f"sqlite:///{tmp_path / 'not-yet.db'}")
    from knowledge.conversations.tracker import ConversationFilter

    assert reader.conversations(ConversationFilter()) == [] and reader.count_conversations(ConversationFilter()) == 0
    assert not (tmp_path / "not-yet.db").exists()


async def test_officer_reads_only_conversations_of_their_region(client) -> None:
    await sign_in(client, "gaocheng")
    assert (await client.get("/conversations/tg-1001")).status == 200
    refused = await client.get("/conversations/tg-2002")
    assert refused.status == 403 and "不在您负责的地区" in await refused.text()
    page = await (await client.get("/conversations/web-5f3a")).text()
    assert "保存审核" not in page and "更正意图和实体" not in page  # reading only


async def test_transcript_falls_back_to_message_metadata_without_a_farmer_row(client, knowledge) -> None:
    from knowledge.models import Farmer

    with knowledge() as session:
        session.delete(session.scalars(select(Farmer).where(Farmer.sender_id == "tg-1001")).one())
        session.commit()
    await sign_in(client, "reviewer")
    page = await (await client.get("/conversations/tg-1001")).text()
    header = page.split('<p class="muted">', 1)[1].split("</p>", 1)[0]
    assert "老王" in header and "藁城区" in header


async def test_a_message_with_personal_numbers_is_corrected_from_the_masked_form(client, knowledge) -> None:
    token = await sign_in(client, "reviewer")
    event = await _event_id(client, "web-5f3a", "&lt;script&gt;")
    page = await (await client.get("/conversations/web-5f3a")).text()
    # The reviewer only ever sees the masked message, in the form too; saving it as shown must work.
    shown = re.search(rf'id="m{event}">.*?name="annotated" value="([^"]*)"', page, re.S).group(1)
    shown = html.unescape(shown)
    assert "138****5678" in shown and "13812345678" not in shown
    saved = await client.post(f"/conversations/web-5f3a/messages/{event}", data={
        "csrf_token": token, "intent": "request_human", "annotated": shown})
    assert "更正已保存" in await saved.text()
    with knowledge() as session:
        correction = session.scalars(select(MessageCorrection).where(MessageCorrection.event_id == event)).one()
    assert correction.intent == "request_human" and "13812345678" not in correction.annotated_text
    changed = await client.post(f"/conversations/web-5f3a/messages/{event}", data={
        "csrf_token": token, "intent": "request_human", "annotated": shown.replace("138****5678", "139****5678")})
    assert "必须和农户的原话一字不差" in await changed.text()
