"""ORM models of the knowledge base: products, places, prices, articles, accounts and farmer-facing records.

Prices are stored twice on purpose: as the officer or source entered them (unit and figures)
and converted into the product's canonical unit, so that queries compare like with like and an
audit can always show what was really published.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

# Stable constraint names, so Alembic migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

PRICE = Numeric(12, 4)


def utcnow() -> dt.datetime:
    """The current UTC time, naive, as stored in every timestamp column."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Timestamped:
    """created_at / updated_at / updated_by for rows that people edit."""

    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by = Column(String(64), nullable=False, default="system")


class Region(Base, Timestamped):
    """A place in the hierarchy 全国 > province > city > county > township > village."""

    __tablename__ = "region"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_region_parent_name"),)

    LEVELS = ("country", "province", "city", "county", "township", "village")

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, index=True)
    # The short form farmers type ("河北" for "河北省", "冀" in market lists).
    short_name = Column(String(32), nullable=True, index=True)
    level = Column(String(16), nullable=False)
    parent_id = Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=True, index=True)

    parent = relationship("Region", remote_side=[id], backref="children")

    def __repr__(self) -> str:
        return f"<Region {self.name} ({self.level})>"


class Product(Base, Timestamped):
    """A farm product with its canonical name, category and the unit prices are stored in."""

    __tablename__ = "product"

    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False, unique=True)
    category = Column(String(16), nullable=False)
    # Canonical unit of stored prices; every record is converted into it on entry.
    unit = Column(String(16), nullable=False, default="元/公斤")

    aliases = relationship("ProductAlias", back_populates="product", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Product {self.name}>"


class ProductAlias(Base):
    """Another name farmers use for a product (苞谷 → 玉米); unique across all products."""

    __tablename__ = "product_alias"

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False, index=True)
    alias = Column(String(32), nullable=False, unique=True)

    product = relationship("Product", back_populates="aliases")


class Market(Base, Timestamped):
    """Where a price was observed: a wholesale market, a purchase point, a village fair, or a national average."""

    __tablename__ = "market"

    KINDS = ("批发市场", "收购点", "集市", "全国均价", "产区均价")

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    region_id = Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind = Column(String(16), nullable=False, default="批发市场")

    region = relationship("Region")


class CatalogVersion(Base):
    """One row whose token changes with every write to products, aliases, regions or markets.

    Database triggers (migration 0005_catalog_version) change it, whichever process or tool wrote, so every
    process can keep the catalog of names in memory (knowledge/catalog/snapshot.py) and know from one
    primary-key read whether it is still current. The token is random rather than a counter so
    that a rolled-back change followed by another change never repeats a token already seen.
    """

    __tablename__ = "catalog_version"

    id = Column(Integer, primary_key=True)
    token = Column(BigInteger, nullable=False)


class PriceRecord(Base, Timestamped):
    """One published price of a product at a market on a date, from a named source."""

    __tablename__ = "price_record"
    __table_args__ = (
        UniqueConstraint("product_id", "market_id", "report_date", "source", name="uq_price_record_natural"),
        Index("ix_price_record_product_date", "product_id", "report_date"),
        Index("ix_price_record_market_product_date", "market_id", "product_id", "report_date"),
        # The push scheduler asks "which products changed since …" every few seconds.
        Index("ix_price_record_updated_at", "updated_at"),
    )

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("product.id", ondelete="RESTRICT"), nullable=False)
    market_id = Column(Integer, ForeignKey("market.id", ondelete="RESTRICT"), nullable=False)
    report_date = Column(Date, nullable=False)
    # Figures in the product's canonical unit (Product.unit); avg alone is common.
    min_price = Column(PRICE, nullable=True)
    avg_price = Column(PRICE, nullable=True)
    max_price = Column(PRICE, nullable=True)
    # The same figures exactly as the source or officer gave them.
    entered_unit = Column(String(16), nullable=False)
    entered_min = Column(PRICE, nullable=True)
    entered_avg = Column(PRICE, nullable=True)
    entered_max = Column(PRICE, nullable=True)
    source = Column(String(128), nullable=False)
    # V: checked against the original; V2: reliable secondary report; U: indicative only.
    confidence = Column(String(4), nullable=False, default="V")
    note = Column(String(256), nullable=True)
    entered_by = Column(String(64), nullable=False, default="system")

    product = relationship("Product")
    market = relationship("Market")


class TopicAlias(Base):
    """A folk term for an official policy topic (粮补 → 耕地地力保护补贴)."""

    __tablename__ = "topic_alias"

    id = Column(Integer, primary_key=True)
    alias = Column(String(32), nullable=False, unique=True)
    topic = Column(String(64), nullable=False, index=True)


class Article(Base, Timestamped):
    """A policy or insurance knowledge entry: the question forms it answers and the sourced answer."""

    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("topic", "title", name="uq_article_topic_title"),)

    CATEGORIES = ("policy", "pension", "medical", "other")
    STATUSES = ("draft", "published")

    id = Column(Integer, primary_key=True)
    category = Column(String(16), nullable=False, index=True)
    topic = Column(String(64), nullable=False, index=True)
    title = Column(String(128), nullable=False)
    # One question form per line: what farmers ask that this article answers.
    questions = Column(Text, nullable=False, default="")
    answer = Column(Text, nullable=False)
    # NULL means national; otherwise the region the article applies to (and below).
    region_id = Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=True, index=True)
    doc_number = Column(String(64), nullable=True)
    source = Column(String(256), nullable=False)
    published_on = Column(Date, nullable=True)
    effective_on = Column(Date, nullable=True)
    confidence = Column(String(4), nullable=False, default="V")
    status = Column(String(16), nullable=False, default="draft", index=True)

    region = relationship("Region")


class Role(str, enum.Enum):
    """What a console account may do; stored in account.role as its value."""

    ADMIN = "admin"
    OFFICER = "officer"  # a village information officer (信息员), limited to their region
    REVIEWER = "reviewer"


class Account(Base, Timestamped):
    """A console user: admin, village information officer or reviewer (see Role)."""

    __tablename__ = "account"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(64), nullable=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False)
    region_id = Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=True, index=True)
    telegram_user_id = Column(String(32), nullable=True, unique=True)
    # Hash of the one-time code that links a Telegram account; cleared once used.
    telegram_link_code_hash = Column(String(128), nullable=True)
    telegram_link_code_expires_at = Column(DateTime, nullable=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    active = Column(Boolean, nullable=False, default=True)

    region = relationship("Region")


class AuditLog(Base):
    """Who changed what in the knowledge base, with the row before and after (JSON)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(16), nullable=False)
    entity = Column(String(32), nullable=False, index=True)
    entity_id = Column(Integer, nullable=True)
    before = Column(Text, nullable=True)
    after = Column(Text, nullable=True)


class Farmer(Base, Timestamped):
    """A person who talks to the bot: the stable sender id, the chat to push to, and their region."""

    __tablename__ = "farmer"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, unique=True)
    channel = Column(String(16), nullable=False)
    chat_id = Column(String(64), nullable=True)
    display_name = Column(String(64), nullable=True)
    region_id = Column(Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True)

    region = relationship("Region")


class Subscription(Base, Timestamped):
    """A farmer's price alert: any change, above/below a threshold, or a daily digest at an hour."""

    __tablename__ = "subscription"

    RULES = ("any_change", "above", "below", "daily")

    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    product_id = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False)
    region_id = Column(Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True)
    rule = Column(String(16), nullable=False, default="any_change")
    threshold = Column(PRICE, nullable=True)
    daily_hour = Column(Integer, nullable=True)
    active = Column(Boolean, nullable=False, default=True)

    farmer = relationship("Farmer")
    product = relationship("Product")
    region = relationship("Region")


class HandoffTicket(Base, Timestamped):
    """A farmer's question handed to a person: the officers of the region see and answer it."""

    __tablename__ = "handoff_ticket"

    STATUSES = ("open", "answered", "delivered", "closed")

    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    question = Column(Text, nullable=False)
    # The Rasa conversation (sender id) the console links to for the transcript.
    conversation_id = Column(String(128), nullable=False)
    status = Column(String(16), nullable=False, default="open", index=True)
    region_id = Column(Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True, index=True)
    assignee_id = Column(Integer, ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    answer = Column(Text, nullable=True)
    answered_at = Column(DateTime, nullable=True)
    delivered_at = Column(DateTime, nullable=True)

    farmer = relationship("Farmer")
    region = relationship("Region")
    assignee = relationship("Account")
    attachments = relationship("FarmerAttachment", back_populates="handoff_ticket",
                               order_by="FarmerAttachment.created_at")


class FarmerAttachment(Base):
    """A voice message, photo, video or file a farmer sent on Telegram; linked to the ticket it was handed over with.

    Only Telegram's file id is kept, not the file: officers fetch it through the Bot API when they
    open it (console.telegram_files), so the bot stores no farmer's pictures or voice.
    """

    __tablename__ = "farmer_attachment"
    # The handoff looks up one farmer's recent, not yet handed-over media.
    __table_args__ = (Index("ix_farmer_attachment_farmer_id_created_at", "farmer_id", "created_at"),)

    KINDS = ("voice", "audio", "photo", "video", "video_note", "document")  # plain text in the DB, no constraint

    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False)
    handoff_ticket_id = Column(
        Integer, ForeignKey("handoff_ticket.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind = Column(String(16), nullable=False)
    telegram_file_id = Column(String(256), nullable=False)
    duration_seconds = Column(Integer, nullable=True)
    file_size = Column(Integer, nullable=True)
    file_name = Column(String(256), nullable=True)
    mime_type = Column(String(128), nullable=True)
    caption = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    farmer = relationship("Farmer")
    handoff_ticket = relationship("HandoffTicket", back_populates="attachments")


class Feedback(Base):
    """A farmer's 👍/👎 on one bot answer, kept per answer."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("conversation_id", "message_id", name="uq_feedback_message"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    # Identifies the answer being rated (the action's answer id sent with the buttons).
    message_id = Column(String(64), nullable=False)
    rating = Column(Integer, nullable=False)
    comment = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ConversationReview(Base, Timestamped):
    """A reviewer's verdict on one Rasa conversation: reviewed or not, tags, a flag and a note.

    The conversation itself lives in Rasa's tracker store, which the console never writes; this
    row is keyed by the tracker's sender id.
    """

    __tablename__ = "conversation_review"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)
    reviewed = Column(Boolean, nullable=False, default=False, index=True)
    reviewed_by = Column(String(64), nullable=True)
    reviewed_at = Column(DateTime, nullable=True)
    flagged = Column(Boolean, nullable=False, default=False, index=True)
    # Comma-separated, normalised (trimmed, no duplicates, sorted) so "has tag X" is a LIKE away.
    tags = Column(String(256), nullable=False, default="")
    note = Column(Text, nullable=True)


class MessageCorrection(Base, Timestamped):
    """A reviewer's correct intent and entities for one farmer message, exported as NLU training data."""

    __tablename__ = "message_correction"
    __table_args__ = (UniqueConstraint("conversation_id", "event_id", name="uq_message_correction_event"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    # The tracker store's event row id; the text is copied so the correction outlives the tracker DB.
    event_id = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(64), nullable=True)
    intent = Column(String(64), nullable=False)
    # The message in Rasa's inline annotation ("[玉米](product)多少钱"), the form data/nlu/ uses.
    annotated_text = Column(Text, nullable=False)


class Push(Base):
    """One message the gateway pushes to a farmer (price alert, daily digest, officer's answer): the outbox.

    `push_key` names the logical push ("handoff:12", "daily:3:2026-11-22"), so the same push is
    written once however many gateway processes notice it, and a restart neither loses nor repeats it.
    """

    __tablename__ = "push"
    __table_args__ = (Index("ix_push_status_next_attempt_at", "status", "next_attempt_at"),)

    KINDS = ("price_alert", "daily_digest", "handoff_answer")
    # pending: waiting to be sent (or, for the web chat, fetched); sending: claimed by one gateway
    # process; sent: delivered; failed: given up after retries, or the chat is gone.
    STATUSES = ("pending", "sending", "sent", "failed")

    id = Column(Integer, primary_key=True)
    push_key = Column(String(160), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)
    farmer_id = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    subscription_id = Column(Integer, ForeignKey("subscription.id", ondelete="SET NULL"), nullable=True, index=True)
    handoff_ticket_id = Column(
        Integer, ForeignKey("handoff_ticket.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # What the alert was about (product, market, date and figures), to tell a real change from a re-import.
    fingerprint = Column(String(64), nullable=True)
    text = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_by = Column(String(64), nullable=True)
    claimed_at = Column(DateTime, nullable=True)
    sent_at = Column(DateTime, nullable=True)
    last_error = Column(String(256), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    farmer = relationship("Farmer")
    subscription = relationship("Subscription")
    handoff_ticket = relationship("HandoffTicket")


class PushCursor(Base):
    """How far the push scheduler has read a changing table (price_record), kept across restarts."""

    __tablename__ = "push_cursor"

    name = Column(String(32), primary_key=True)
    position = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ChatCallback(Base):
    """What a Telegram button means when its meaning does not fit in 64 bytes of callback_data.

    Long Rasa payloads and an officer's pending /setprice are stored here under a short key, so
    any gateway process (webhook mode behind a load balancer) can answer the button.
    """

    __tablename__ = "chat_callback"

    key = Column(String(32), primary_key=True)
    kind = Column(String(16), nullable=False)
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class ScheduledRun(Base):
    """A job that must run once per due time however many processes try (the daily retention run).

    A process runs the job only after winning the conditional UPDATE that moves `due_at` to the new due
    time; `done_until` says how far the job has got, so the next run starts there instead of from the start.
    """

    __tablename__ = "scheduled_run"

    name = Column(String(32), primary_key=True)
    due_at = Column(DateTime, nullable=True)
    claimed_by = Column(String(64), nullable=True)
    claimed_at = Column(DateTime, nullable=True)
    finished_at = Column(DateTime, nullable=True)
    done_until = Column(DateTime, nullable=True)


class ConversationErasure(Base):
    """A forgotten farmer's Rasa conversation still to be anonymised in the tracker store, under its new id.

    The console never writes the tracker store, so a farmer forgotten there waits here until the gateway's
    scheduler (or `python -m knowledge retention`) does that part; the row is removed once done.
    """

    __tablename__ = "conversation_erasure"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    new_sender_id = Column(String(255), nullable=False)
    requested_at = Column(DateTime, nullable=False, default=utcnow)
