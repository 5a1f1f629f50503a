"""Conversations from Rasa's tracker store: filtered list, transcript, review, corrections and the NLU export."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Dict, Mapping, Optional
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from console.context import ConsoleContext, console_context, page_number
from console.nlu_export import AnnotationError, annotate, check_annotation, export_corrections, known_examples
from console.permissions import region_scope
from console.security import CurrentUser, Forbidden, current_user, flash, require
from console.views.forms import checkbox, region_choices
from knowledge.conversations.filters import add_knowledge_filters
from knowledge.conversations.review import (
    ReviewError,
    all_corrections,
    corrections_for,
    feedback_by_answer,
    negative_feedback,
    review_for,
    reviews_for,
    save_correction,
    update_review,
)
from knowledge.conversations.tracker import ConversationFilter
from knowledge.db import Session, session_scope
from knowledge.handoff.inbox import conversation_tickets
from knowledge.models import Role
from knowledge.people.farmers import farmers_by_sender, find_farmer

logger = logging.getLogger(__name__)
PAGE_SIZE = 50
TRANSCRIPT_PAGE_SIZE = 100
REVIEWERS = (Role.ADMIN, Role.REVIEWER)
CHANNEL_NAMES = {"telegram": "Telegram", "web": "网页聊天", "other": "其他"}


def _day_start(text: str, extra_days: int = 0) -> Optional[float]:
    try:
        day = dt.date.fromisoformat(text) + dt.timedelta(days=extra_days)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


def build_filter(db: Session, query: Dict[str, str]) -> ConversationFilter:
    """The tracker-side filter for the list's query string, with the knowledge-DB sets resolved."""
    wanted = ConversationFilter(
        since=_day_start(query.get("since", "")), until=_day_start(query.get("until", ""), 1),
        channel=query.get("channel") or None, intent=query.get("intent") or None,
        fell_back=query.get("fell_back") == "1", handed_off=query.get("handed_off") == "1",
    )
    try:
        wanted.confidence_below = float(query["confidence_below"]) if query.get("confidence_below") else None
    except ValueError:
        wanted.confidence_below = None
    return add_knowledge_filters(
        db, wanted, negative_feedback=query.get("negative") == "1",
        reviewed={"yes": True, "no": False}.get(query.get("reviewed", "")), tag=query.get("tag", ""),
        flagged=query.get("flagged") == "1",
        region_id=int(query["region"]) if query.get("region", "").isdigit() else None,
    )


def _list_values(context: ConsoleContext, query: Dict[str, str], page: int) -> Dict[str, Any]:
    with session_scope(context.sessions) as db:
        wanted = build_filter(db, query)
        total = context.tracker.count_conversations(wanted)
        conversations = context.tracker.conversations(wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        senders = [item.sender_id for item in conversations]
        farmers = {sender: (farmer.region.name if farmer.region else "") for sender, farmer in
                   farmers_by_sender(db, senders).items()}
        reviews = {sender: (review.reviewed, review.flagged, review.tags) for sender, review in
                   reviews_for(db, senders).items()}
        return {
            "conversations": conversations, "total": total, "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)), "query": query, "farmers": farmers, "reviews": reviews,
            "negatives": negative_feedback(db, senders), "regions": region_choices(db),
            "intents": context.tracker.intents(), "channels": CHANNEL_NAMES, "quote": quote,
        }


@require(*REVIEWERS)
async def conversation_list(request: web.Request) -> web.Response:
    """Conversations, most recent first, with the filters of the issue.

    Read on a worker thread: over a large tracker store a filtered page takes up to a second.
    """
    values = await asyncio.get_running_loop().run_in_executor(
        None, _list_values, console_context(request), dict(request.query), page_number(request.query))
    return aiohttp_jinja2.render_template("conversations.html", request, values)


def may_read_conversation(db: Session, user: CurrentUser, sender_id: str) -> bool:
    """Reviewers and admins read every conversation; an officer those of farmers or tickets in their region."""
    if user.role in REVIEWERS:
        return True
    scope = region_scope(db, user)
    if scope is None:
        return True
    farmer = find_farmer(db, sender_id)
    if farmer is not None and farmer.region_id in scope:
        return True
    return any(ticket.region_id in scope for ticket in conversation_tickets(db, sender_id))


def transcript_context(db: Session, context: ConsoleContext, sender_id: str,
                       query: Mapping[str, str]) -> Dict[str, Any]:
    """Everything the transcript shows: one page of entries (?page=, the latest without it), feedback on answers,
    corrections, review state, farmer."""
    total = context.tracker.transcript_length(sender_id)
    pages = max(1, -(-total // TRANSCRIPT_PAGE_SIZE))
    page = min(page_number(query), pages) if query.get("page") else pages
    entries = context.tracker.transcript(sender_id, TRANSCRIPT_PAGE_SIZE, (page - 1) * TRANSCRIPT_PAGE_SIZE)
    feedback = feedback_by_answer(db, sender_id)
    corrections = corrections_for(db, sender_id)
    rows = []
    for entry in entries:
        row: Dict[str, Any] = {"entry": entry}
        if entry.kind == "bot":
            row["feedback"] = [feedback[answer_id] for answer_id in entry.answer_ids if answer_id in feedback]
        if entry.kind == "user":
            correction = corrections.get(entry.event_id)
            row["correction"] = correction
            row["annotated"] = correction.annotated_text if correction else annotate(entry.text, entry.entities)
        rows.append(row)
    farmer = find_farmer(db, sender_id)
    # Without a Farmer row (a farmer the gateway has not registered), the messages' metadata still says who.
    metadata = next((entry.metadata for entry in entries if entry.kind == "user" and entry.metadata), {})
    return {
        "sender_id": sender_id, "rows": rows, "review": review_for(db, sender_id), "farmer": farmer,
        "farmer_region": farmer.region.name if farmer and farmer.region else str(metadata.get("region") or ""),
        "metadata_name": str(metadata.get("display_name") or ""),
        "tickets": conversation_tickets(db, sender_id),
        "intents": context.domain.intents, "channels": CHANNEL_NAMES, "quote": quote,
        "page": page, "pages": pages, "total": total, "query": query,
    }


@require(Role.ADMIN, Role.REVIEWER, Role.OFFICER)
async def conversation_view(request: web.Request) -> web.Response:
    """One conversation: each farmer message with intent, confidence and entities, each reply, feedback given."""
    user = current_user(request)
    context = console_context(request)
    sender_id = request.match_info["sender_id"]
    with session_scope(context.sessions) as db:
        if not may_read_conversation(db, user, sender_id):
            raise Forbidden("这段对话的农户不在您负责的地区，不能查看。")
        values = transcript_context(db, context, sender_id, request.query)
        if not values["rows"] and not values["tickets"]:
            raise web.HTTPNotFound(text="没有这段对话")
        values["can_review"] = user.role in REVIEWERS
        return aiohttp_jinja2.render_template("conversation.html", request, values)


def _back(sender_id: str, anchor: str = "") -> web.HTTPFound:
    return web.HTTPFound(f"/conversations/{quote(sender_id, safe='')}{anchor}")


@require(*REVIEWERS)
async def conversation_review(request: web.Request) -> web.Response:
    """Mark reviewed, flag, tag and note a conversation."""
    user = current_user(request)
    context = console_context(request)
    sender_id = request.match_info["sender_id"]
    form = await request.post()
    if not context.tracker.exists(sender_id):
        raise web.HTTPNotFound(text="没有这段对话")
    try:
        with session_scope(context.sessions) as db:
            update_review(db, sender_id, user.username, checkbox(form, "reviewed"), checkbox(form, "flagged"),
                          str(form.get("tags", "")), str(form.get("note", "")))
        await flash(request, "审核状态已保存")
    except ReviewError as error:
        await flash(request, f"没有保存：{error}")
    raise _back(sender_id)


@require(*REVIEWERS)
async def message_correct(request: web.Request) -> web.Response:
    """Store the correct intent and entities of one farmer message, for the training-data export."""
    user = current_user(request)
    context = console_context(request)
    sender_id = request.match_info["sender_id"]
    event_id = int(request.match_info["event_id"])
    form = await request.post()
    message = context.tracker.user_message(sender_id, event_id)
    if message is None:
        raise web.HTTPNotFound(text="没有这条消息")
    intent = str(form.get("intent", ""))
    if intent not in context.domain.intents:
        await flash(request, f"没有保存：意图“{intent}”不在 domain.yml 里")
        raise _back(sender_id, f"#m{event_id}")
    try:
        check_annotation(str(form.get("annotated", "")), message.text, context.domain.entities)
    except AnnotationError as error:
        await flash(request, f"没有保存：{error}")
        raise _back(sender_id, f"#m{event_id}") from error
    annotated = " ".join(str(form.get("annotated", "")).split())
    with session_scope(context.sessions) as db:
        save_correction(db, sender_id, event_id, message.text, message.intent, intent, annotated, user.username)
    await flash(request, "更正已保存，会出现在训练数据导出里")
    raise _back(sender_id, f"#m{event_id}")


def _export(context: ConsoleContext):
    with session_scope(context.sessions) as db:
        pairs = [(row.intent, row.annotated_text) for row in all_corrections(db)]
    return export_corrections(pairs, known_examples(context.nlu_dir))


@require(*REVIEWERS)
async def training_data_page(request: web.Request) -> web.Response:
    """What the export holds: corrected examples by intent, and those already in data/nlu/."""
    export = _export(console_context(request))
    return aiohttp_jinja2.render_template("training_data.html", request, {"export": export})


@require(*REVIEWERS)
async def training_data_download(request: web.Request) -> web.Response:
    """The corrected messages as Rasa NLU YAML, to add to data/nlu/."""
    export = _export(console_context(request))
    logger.info("NLU export by %s: %d examples", current_user(request).username, export.examples)
    return web.Response(
        text=export.yaml_text, content_type="application/x-yaml", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="console_corrections.yml"'},
    )
