"""Reading Rasa's SQL tracker store (its `events` table), strictly read-only.

The tracker database is Rasa's, not ours: it is opened with its own URL, read-only at the driver
level (SQLite `mode=ro`, a PostgreSQL session with default_transaction_read_only), so no bug here
can change what Rasa recorded. Rasa creates the table when it first starts; until then there are
simply no conversations.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.sql import ColumnElement, Select, literal_column

logger = logging.getLogger(__name__)

# The columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6), described here so
# that reading needs no Rasa import and cannot create the table.
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = ("action_default_fallback", "action_handle_fallback", "action_two_stage_fallback")
HANDOFF_ACTION = "action_request_human"
# Sender ids the gateway gives: tg-<telegram id> and web-<random>.
CHANNEL_PREFIXES = {"telegram": "tg-", "web": "web-"}
_ANSWER_ID = re.compile(r'"answer_id"\s*:\s*"([^"]+)"')
# The events a transcript shows: farmer messages, bot replies and these actions.
NOTABLE_ACTIONS = (HANDOFF_ACTION, *FALLBACK_ACTIONS)


def channel_of(sender_id: str) -> str:
    """The channel a sender id belongs to: telegram, web or other."""
    for channel, prefix in CHANNEL_PREFIXES.items():
        if sender_id.startswith(prefix):
            return channel
    return "other"


def _read_only_engine(url: str) -> Optional[Engine]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or not Path(path).exists():
            return None  # Rasa has not written anything yet; never create the file ourselves
        # Pages read on worker threads, hence no same-thread check; mode=ro makes every write fail.
        return create_engine(f"sqlite:///file:{Path(path).resolve()}?mode=ro&uri=true", future=True,
                             connect_args={"check_same_thread": False})
    options = {"options": "-c default_transaction_read_only=on"} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=options)


@dataclass
class ConversationFilter:
    """What the conversation list is narrowed to; every field is optional."""

    since: Optional[float] = None  # Unix seconds, inclusive
    until: Optional[float] = None  # Unix seconds, exclusive
    channel: Optional[str] = None
    intent: Optional[str] = None
    confidence_below: Optional[float] = None
    fell_back: bool = False
    handed_off: bool = False
    # Sets computed from the knowledge DB (reviews, feedback, farmers' regions, tickets).
    only_senders: Optional[Set[str]] = None
    except_senders: Set[str] = field(default_factory=set)
    also_handed_off: Set[str] = field(default_factory=set)


@dataclass
class ConversationSummary:
    """One conversation in the list."""

    sender_id: str
    first_at: float
    last_at: float
    messages: int
    channel: str
    first_text: str = ""
    lowest_confidence: Optional[float] = None
    fallbacks: int = 0
    handed_off: bool = False


@dataclass
class TranscriptEntry:
    """One line of a transcript: a farmer message, a bot reply, or a notable action."""

    kind: str  # "user", "bot" or "action"
    event_id: int
    timestamp: Optional[float]
    text: str = ""
    intent: Optional[str] = None
    confidence: Optional[float] = None
    entities: List[Dict[str, Any]] = field(default_factory=list)
    ranking: List[Dict[str, Any]] = field(default_factory=list)
    buttons: List[str] = field(default_factory=list)
    answer_ids: List[str] = field(default_factory=list)
    action: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)


@dataclass
class UserMessage:
    """A farmer message as the dashboard counts it."""

    sender_id: str
    timestamp: float
    text: str
    intent: Optional[str]
    entities: List[Dict[str, Any]]


def _json(data: Optional[str]) -> Dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class TrackerReader:
    """Read-only queries over the tracker store at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Optional[Engine] = None

    @property
    def engine(self) -> Optional[Engine]:
        """The read-only engine, opened once the tracker database exists."""
        if self._engine is None:
            self._engine = _read_only_engine(self.url)
        return self._engine

    def close(self) -> None:
        """Release the connection pool."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _rows(self, statement: Select) -> List[Any]:
        engine = self.engine
        if engine is None:
            return []
        try:
            with engine.connect() as connection:
                return list(connection.execute(statement))
        except (OperationalError, ProgrammingError) as error:
            if "events" in str(error) and ("no such table" in str(error) or "does not exist" in str(error)):
                return []  # Rasa has not created its table yet
            raise

    def _confidence(self) -> ColumnElement:
        engine = self.engine
        if engine is not None and engine.dialect.name == "postgresql":
            path = literal_column("'{parse_data,intent,confidence}'")
            return cast(cast(EVENTS.c.data, JSONB).op("#>>")(path), Float)
        return cast(func.json_extract(EVENTS.c.data, "$.parse_data.intent.confidence"), Float)

    def _matching_senders(self, conditions: Iterable[ColumnElement]) -> Select:
        return select(EVENTS.c.sender_id).where(*conditions).distinct()

    def _sender_list(self, senders: Iterable[str]) -> Select:
        """The sender ids as a one-column SELECT over a single bound value, however many there are.

        An IN list binds one variable per id, and the filters' sets (every farmer of a region, every
        reviewed conversation) can exceed SQLite's limit (32,766 in its own builds). One JSON array,
        unpacked by json_each, or one PostgreSQL array, unpacked by unnest, has no such limit.
        """
        ordered = sorted(senders)
        engine = self.engine
        if engine is not None and engine.dialect.name == "postgresql":
            return select(func.unnest(bindparam("senders", ordered, type_=ARRAY(String), unique=True)))
        array = bindparam("senders", json.dumps(ordered), type_=Text, unique=True)
        return select(func.json_each(array).table_valued("value").c.value)

    def _filtered(self, wanted: ConversationFilter) -> Select:
        user = EVENTS.c.type_name == "user"
        query = (
            select(
                EVENTS.c.sender_id,
                func.min(EVENTS.c.timestamp).label("first_at"),
                func.max(EVENTS.c.timestamp).label("last_at"),
                func.count(EVENTS.c.id).label("messages"),
            )
            .where(user)
            .group_by(EVENTS.c.sender_id)
        )
        if wanted.since is not None or wanted.until is not None:
            window = [user]
            if wanted.since is not None:
                window.append(EVENTS.c.timestamp >= wanted.since)
            if wanted.until is not None:
                window.append(EVENTS.c.timestamp < wanted.until)
            query = query.where(EVENTS.c.sender_id.in_(self._matching_senders(window)))
        if wanted.channel in CHANNEL_PREFIXES:
            query = query.where(EVENTS.c.sender_id.startswith(CHANNEL_PREFIXES[wanted.channel], autoescape=True))
        elif wanted.channel == "other":
            for prefix in CHANNEL_PREFIXES.values():
                query = query.where(~EVENTS.c.sender_id.startswith(prefix, autoescape=True))
        if wanted.intent:
            query = query.where(EVENTS.c.sender_id.in_(
                self._matching_senders([user, EVENTS.c.intent_name == wanted.intent])))
        if wanted.confidence_below is not None:
            query = query.where(EVENTS.c.sender_id.in_(
                self._matching_senders([user, self._confidence() < wanted.confidence_below])))
        if wanted.fell_back:
            query = query.where(EVENTS.c.sender_id.in_(self._matching_senders(
                [(EVENTS.c.intent_name == FALLBACK_INTENT) | EVENTS.c.action_name.in_(FALLBACK_ACTIONS)])))
        if wanted.handed_off:
            by_action = EVENTS.c.sender_id.in_(self._matching_senders([EVENTS.c.action_name == HANDOFF_ACTION]))
            if wanted.also_handed_off:
                by_action = by_action | EVENTS.c.sender_id.in_(self._sender_list(wanted.also_handed_off))
            query = query.where(by_action)
        if wanted.only_senders is not None:
            query = query.where(EVENTS.c.sender_id.in_(self._sender_list(wanted.only_senders)))
        if wanted.except_senders:
            query = query.where(EVENTS.c.sender_id.notin_(self._sender_list(wanted.except_senders)))
        return query

    def count_conversations(self, wanted: ConversationFilter) -> int:
        """How many conversations match."""
        if wanted.only_senders is not None and not wanted.only_senders:
            return 0
        rows = self._rows(select(func.count()).select_from(self._filtered(wanted).subquery()))
        return int(rows[0][0]) if rows else 0

    def conversations(self, wanted: ConversationFilter, limit: int = 50, offset: int = 0) -> List[ConversationSummary]:
        """The matching conversations, most recently active first, with what the list shows about each."""
        if wanted.only_senders is not None and not wanted.only_senders:
            return []
        page = self._filtered(wanted).order_by(func.max(EVENTS.c.timestamp).desc(), EVENTS.c.sender_id)
        rows = self._rows(page.limit(limit).offset(offset))
        summaries = {
            row.sender_id: ConversationSummary(
                sender_id=row.sender_id, first_at=row.first_at or 0.0, last_at=row.last_at or 0.0,
                messages=row.messages, channel=channel_of(row.sender_id),
            )
            for row in rows
        }
        if summaries:
            self._add_details(summaries)
        return list(summaries.values())

    def _add_details(self, summaries: Dict[str, ConversationSummary]) -> None:
        senders = list(summaries)
        first_ids = (
            select(func.min(EVENTS.c.id))
            .where(EVENTS.c.type_name == "user", EVENTS.c.sender_id.in_(senders))
            .group_by(EVENTS.c.sender_id)
        )
        for row in self._rows(select(EVENTS.c.sender_id, EVENTS.c.data).where(EVENTS.c.id.in_(first_ids))):
            summaries[row.sender_id].first_text = str(_json(row.data).get("text") or "")
        is_user = EVENTS.c.type_name == "user"
        fallback = (is_user & (EVENTS.c.intent_name == FALLBACK_INTENT))
        stats = (
            select(
                EVENTS.c.sender_id,
                func.min(self._confidence()).filter(is_user).label("lowest"),
                func.count(EVENTS.c.id).filter(fallback).label("fallbacks"),
                func.count(EVENTS.c.id).filter(EVENTS.c.action_name == HANDOFF_ACTION).label("handoffs"),
            )
            .where(EVENTS.c.sender_id.in_(senders))
            .group_by(EVENTS.c.sender_id)
        )
        for row in self._rows(stats):
            summary = summaries[row.sender_id]
            summary.lowest_confidence = row.lowest
            summary.fallbacks = row.fallbacks or 0
            summary.handed_off = bool(row.handoffs)

    def intents(self) -> List[str]:
        """Every intent the tracker store has seen, for the filter menu."""
        query = select(EVENTS.c.intent_name).where(
            EVENTS.c.type_name == "user", EVENTS.c.intent_name.isnot(None)).distinct().order_by(EVENTS.c.intent_name)
        return [row[0] for row in self._rows(query)]

    def senders_mentioning(self, words: str) -> List[str]:
        """The conversations in which a farmer wrote `words`: ASCII only (Rasa stores its JSON with non-ASCII escaped),
        such as the phone number a farmer asks to be forgotten by."""
        query = select(EVENTS.c.sender_id).where(
            EVENTS.c.type_name == "user", EVENTS.c.data.contains(words, autoescape=True)).distinct()
        return sorted(row[0] for row in self._rows(query))

    def exists(self, sender_id: str) -> bool:
        """True when the tracker store holds events of this conversation."""
        return bool(self._rows(select(EVENTS.c.id).where(EVENTS.c.sender_id == sender_id).limit(1)))

    @staticmethod
    def _shown_events(sender_id: str) -> List[ColumnElement]:
        notable = (EVENTS.c.type_name == "action") & EVENTS.c.action_name.in_(NOTABLE_ACTIONS)
        return [EVENTS.c.sender_id == sender_id, or_(EVENTS.c.type_name.in_(("user", "bot")), notable)]

    def transcript_length(self, sender_id: str) -> int:
        """How many entries the conversation's whole transcript has."""
        rows = self._rows(select(func.count()).select_from(EVENTS).where(*self._shown_events(sender_id)))
        return int(rows[0][0]) if rows else 0

    def transcript(self, sender_id: str, limit: Optional[int] = None, offset: int = 0) -> List[TranscriptEntry]:
        """The conversation in order (entries `offset` to `offset + limit`): farmer messages with their NLU result,
        bot replies, notable actions."""
        query = select(EVENTS).where(*self._shown_events(sender_id)).order_by(EVENTS.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        entries: List[TranscriptEntry] = []
        for row in self._rows(query):
            data = _json(row.data)
            if row.type_name == "user":
                parse = data.get("parse_data") or {}
                intent = parse.get("intent") or {}
                entries.append(TranscriptEntry(
                    kind="user", event_id=row.id, timestamp=row.timestamp, text=str(data.get("text") or ""),
                    intent=intent.get("name") or row.intent_name, confidence=intent.get("confidence"),
                    entities=[item for item in parse.get("entities") or [] if isinstance(item, dict)],
                    ranking=[item for item in (parse.get("intent_ranking") or [])[:3] if isinstance(item, dict)],
                    metadata=data.get("metadata") or {},
                ))
            elif row.type_name == "bot":
                bot_data = data.get("data") or {}
                buttons = [item for item in bot_data.get("buttons") or [] if isinstance(item, dict)]
                payloads = " ".join(str(item.get("payload")) for item in buttons)
                answer_ids = sorted(set(_ANSWER_ID.findall(payloads)))
                if row.timestamp is not None:
                    answer_ids.append(f"bot-{int(row.timestamp * 1000)}")  # actions.feedback's fallback id
                entries.append(TranscriptEntry(
                    kind="bot", event_id=row.id, timestamp=row.timestamp, text=str(data.get("text") or ""),
                    buttons=[str(item.get("title") or "") for item in buttons], answer_ids=answer_ids,
                ))
            elif row.type_name == "action":
                entries.append(TranscriptEntry(kind="action", event_id=row.id, timestamp=row.timestamp,
                                               action=row.action_name))
        return entries

    def user_message(self, sender_id: str, event_id: int) -> Optional[TranscriptEntry]:
        """One farmer message of the conversation, by its event id."""
        query = select(EVENTS).where(
            EVENTS.c.id == event_id, EVENTS.c.sender_id == sender_id, EVENTS.c.type_name == "user")
        rows = self._rows(query)
        if not rows:
            return None
        data = _json(rows[0].data)
        parse = data.get("parse_data") or {}
        return TranscriptEntry(
            kind="user", event_id=event_id, timestamp=rows[0].timestamp, text=str(data.get("text") or ""),
            intent=(parse.get("intent") or {}).get("name"),
            entities=[item for item in parse.get("entities") or [] if isinstance(item, dict)],
        )

    def user_messages_since(self, since: float, senders: Optional[Set[str]] = None) -> List[UserMessage]:
        """Every farmer message since `since` (Unix seconds), oldest first, for the dashboard; only of `senders`
        when given."""
        if senders is not None and not senders:
            return []
        query = (
            select(EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.intent_name, EVENTS.c.data)
            .where(EVENTS.c.type_name == "user", EVENTS.c.timestamp >= since)
            .order_by(EVENTS.c.id)
        )
        if senders is not None:
            query = query.where(EVENTS.c.sender_id.in_(self._sender_list(senders)))
        messages = []
        for row in self._rows(query):
            data = _json(row.data)
            text = str(data.get("text") or "")
            entities = (data.get("parse_data") or {}).get("entities") or []
            messages.append(UserMessage(row.sender_id, row.timestamp or 0.0, text, row.intent_name,
                                        [item for item in entities if isinstance(item, dict)]))
        return messages
