"""ORM models of the knowledge base: products, places, prices, articles, accounts and farmer-facing records.

Prices are stored twice on purpose: as the officer or source entered them (unit and figures)
and converted into the product's canonical unit, so that queries compare like with like and an
audit can always show what was really published.
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import List, Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declarative_base, relationship

# Stable constraint names, so Alembic migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))

# Every price column: 12 digits, 4 of them after the point.
PRICE_PRECISION, PRICE_SCALE = 12, 4


def utcnow() -> dt.datetime:
    """The current UTC time, naive, as stored in every timestamp column."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Timestamped:
    """created_at / updated_at / updated_by for rows that people edit."""

    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = Column(String(64), nullable=False, default="system")


class Region(Base, Timestamped):
    """A place in the hierarchy 全国 > province > city > county > township > village."""

    __tablename__ = "region"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_region_parent_name"),)

    LEVELS = ("country", "province", "city", "county", "township", "village")

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(64), nullable=False, index=True)
    # The short form farmers type ("河北" for "河北省", "冀" in market lists).
    short_name: Mapped[Optional[str]] = Column(String(32), nullable=True, index=True)
    level: Mapped[str] = Column(String(16), nullable=False)
    parent_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=True, index=True
    )

    # The national division code (GB/T 2260, 12 digits as the Ministry of Civil Affairs lists it) of regions
    # loaded from the packaged data set (knowledge/catalog/divisions.py); None for villages officers add.
    code: Mapped[Optional[str]] = Column(String(12), nullable=True, index=True, unique=True)
    # Where the region's seat lies (WGS84 degrees, from the data set): a shared location goes to the nearest.
    latitude: Mapped[Optional[float]] = Column(Float, nullable=True)
    longitude: Mapped[Optional[float]] = Column(Float, nullable=True)

    parent: Mapped[Optional[Region]] = relationship("Region", remote_side=[id], backref="children")
    aliases: Mapped[List[RegionAlias]] = relationship(
        "RegionAlias", back_populates="region", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Region {self.name} ({self.level})>"


class RegionAlias(Base):
    """Another name farmers use for a region: the name without 县/市/区 (巩义), a former name (襄樊)."""

    __tablename__ = "region_alias"
    __table_args__ = (UniqueConstraint("region_id", "alias", name="uq_region_alias_region_id"),)

    KINDS = ("short", "former")

    id: Mapped[int] = Column(Integer, primary_key=True)
    region_id: Mapped[int] = Column(Integer, ForeignKey("region.id", ondelete="CASCADE"), nullable=False)
    # Not unique: 鼓楼 names four districts, and the farmer is asked which.
    alias: Mapped[str] = Column(String(64), nullable=False, index=True)
    kind: Mapped[str] = Column(String(16), nullable=False, default="short")

    region: Mapped[Region] = relationship("Region", back_populates="aliases")


class Product(Base, Timestamped):
    """A farm product with its canonical name, category and the unit prices are stored in."""

    __tablename__ = "product"

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(32), nullable=False, unique=True)
    category: Mapped[str] = Column(String(16), nullable=False)
    # Canonical unit of stored prices; every record is converted into it on entry.
    unit: Mapped[str] = Column(String(16), nullable=False, default="元/公斤")

    aliases: Mapped[List[ProductAlias]] = relationship(
        "ProductAlias", back_populates="product", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Product {self.name}>"


class ProductAlias(Base):
    """Another name farmers use for a product (苞谷 → 玉米); unique across all products."""

    __tablename__ = "product_alias"

    id: Mapped[int] = Column(Integer, primary_key=True)
    product_id: Mapped[int] = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False, index=True)
    alias: Mapped[str] = Column(String(32), nullable=False, unique=True)

    product: Mapped[Product] = relationship("Product", back_populates="aliases")


class Market(Base, Timestamped):
    """Where a price was observed: a wholesale market, a purchase point, a village fair, or a national average."""

    __tablename__ = "market"

    KINDS = ("批发市场", "收购点", "集市", "全国均价", "产区均价")
    # What a market's figure stands for: a national figure (answered as 全国), a regional average
    # (answered for its region) or one local market (always named as local, never national).
    SCOPES = ("national", "regional", "local")

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(64), nullable=False, unique=True)
    region_id: Mapped[int] = Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = Column(String(16), nullable=False, default="批发市场")
    scope: Mapped[str] = Column(String(16), nullable=False, default="local", server_default="local")

    region: Mapped[Region] = relationship("Region")


class CatalogVersion(Base):
    """One row whose token changes with every write to products, aliases, regions or markets.

    Database triggers (migration 0005_catalog_version) change it, whichever process or tool wrote, so every
    process can keep the catalog of names in memory (knowledge/catalog/snapshot.py) and know from one
    primary-key read whether it is still current. The token is random rather than a counter so
    that a rolled-back change followed by another change never repeats a token already seen.
    """

    __tablename__ = "catalog_version"

    id: Mapped[int] = Column(Integer, primary_key=True)
    token: Mapped[int] = Column(BigInteger, nullable=False)


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

    id: Mapped[int] = Column(Integer, primary_key=True)
    product_id: Mapped[int] = Column(Integer, ForeignKey("product.id", ondelete="RESTRICT"), nullable=False)
    market_id: Mapped[int] = Column(Integer, ForeignKey("market.id", ondelete="RESTRICT"), nullable=False)
    report_date: Mapped[dt.date] = Column(Date, nullable=False)
    # Figures in the product's canonical unit (Product.unit); avg alone is common.
    min_price: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    avg_price: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    max_price: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    # The same figures exactly as the source or officer gave them.
    entered_unit: Mapped[str] = Column(String(16), nullable=False)
    entered_min: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    entered_avg: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    entered_max: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    source: Mapped[str] = Column(String(128), nullable=False)
    # V: checked against the original; V2: reliable secondary report; U: indicative only.
    confidence: Mapped[str] = Column(String(4), nullable=False, default="V")
    note: Mapped[Optional[str]] = Column(String(256), nullable=True)
    entered_by: Mapped[str] = Column(String(64), nullable=False, default="system")

    product: Mapped[Product] = relationship("Product")
    market: Mapped[Market] = relationship("Market")


class TopicAlias(Base):
    """A folk term for an official policy topic (粮补 → 耕地地力保护补贴)."""

    __tablename__ = "topic_alias"

    id: Mapped[int] = Column(Integer, primary_key=True)
    alias: Mapped[str] = Column(String(32), nullable=False, unique=True)
    topic: Mapped[str] = Column(String(64), nullable=False, index=True)


class Article(Base, Timestamped):
    """A policy or insurance knowledge entry: the question forms it answers and the sourced answer."""

    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("topic", "title", name="uq_article_topic_title"),)

    CATEGORIES = ("policy", "pension", "medical", "other")
    STATUSES = ("draft", "published")

    id: Mapped[int] = Column(Integer, primary_key=True)
    category: Mapped[str] = Column(String(16), nullable=False, index=True)
    topic: Mapped[str] = Column(String(64), nullable=False, index=True)
    title: Mapped[str] = Column(String(128), nullable=False)
    # One question form per line: what farmers ask that this article answers.
    questions: Mapped[str] = Column(Text, nullable=False, default="")
    answer: Mapped[str] = Column(Text, nullable=False)
    # NULL means national; otherwise the region the article applies to (and below).
    region_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    doc_number: Mapped[Optional[str]] = Column(String(64), nullable=True)
    source: Mapped[str] = Column(String(256), nullable=False)
    published_on: Mapped[Optional[dt.date]] = Column(Date, nullable=True)
    effective_on: Mapped[Optional[dt.date]] = Column(Date, nullable=True)
    confidence: Mapped[str] = Column(String(4), nullable=False, default="V")
    status: Mapped[str] = Column(String(16), nullable=False, default="draft", index=True)
    # After this day an officer should check the article again (the console's 需要更新 page).
    review_on: Mapped[Optional[dt.date]] = Column(Date, nullable=True)

    region: Mapped[Optional[Region]] = relationship("Region")


class Role(str, enum.Enum):
    """What a console account may do; stored in account.role as its value."""

    ADMIN = "admin"
    OFFICER = "officer"  # a village information officer (信息员), limited to their region
    REVIEWER = "reviewer"


class Account(Base, Timestamped):
    """A console user: admin, village information officer or reviewer (see Role)."""

    __tablename__ = "account"

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(64), nullable=False, unique=True)
    display_name: Mapped[Optional[str]] = Column(String(64), nullable=True)
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False)
    region_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    telegram_user_id: Mapped[Optional[str]] = Column(String(32), nullable=True, unique=True)
    # Hash of the one-time code that links a Telegram account; cleared once used.
    telegram_link_code_hash: Mapped[Optional[str]] = Column(String(128), nullable=True)
    telegram_link_code_expires_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)

    region: Mapped[Optional[Region]] = relationship("Region")


class ConsoleSession(Base):
    """A signed-in console session; the cookie carries its token, this row only the token's SHA-256.

    Signing out deletes the row and a password change deletes all of the account's rows, so every copy
    of a cookie stops working at once.
    """

    __tablename__ = "console_session"

    id: Mapped[int] = Column(Integer, primary_key=True)
    token_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    account_id: Mapped[int] = Column(Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, index=True)

    account: Mapped[Account] = relationship("Account")


class LoginThrottle(Base):
    """Failed console sign-ins counted per username ("user:<name>", known or not) and per client address
    ("ip:<address>"), and until when each is refused (knowledge.people.login).

    One table for both keeps an unknown username on exactly the path of a known one. Failures are
    added by UPDATE … SET failures = failures + 1, so parallel attempts never overwrite each other's count.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = Column(String(96), primary_key=True)
    failures: Mapped[int] = Column(Integer, nullable=False, default=0)
    blocked_until: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow, index=True)


class AuditLog(Base):
    """Who changed what in the knowledge base, with the row before and after (JSON)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor: Mapped[str] = Column(String(64), nullable=False)
    action: Mapped[str] = Column(String(16), nullable=False)
    entity: Mapped[str] = Column(String(32), nullable=False, index=True)
    entity_id: Mapped[Optional[int]] = Column(Integer, nullable=True)
    before: Mapped[Optional[str]] = Column(Text, nullable=True)
    after: Mapped[Optional[str]] = Column(Text, nullable=True)


class Farmer(Base, Timestamped):
    """A person who talks to the bot: the stable sender id, the chat to push to, and their region."""

    __tablename__ = "farmer"

    id: Mapped[int] = Column(Integer, primary_key=True)
    sender_id: Mapped[str] = Column(String(128), nullable=False, unique=True)
    channel: Mapped[str] = Column(String(16), nullable=False)
    chat_id: Mapped[Optional[str]] = Column(String(64), nullable=True)
    display_name: Mapped[Optional[str]] = Column(String(64), nullable=True)
    region_id: Mapped[Optional[int]] = Column(Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True)

    region: Mapped[Optional[Region]] = relationship("Region")


class Subscription(Base, Timestamped):
    """A farmer's price alert: any change, above/below a threshold, or a daily digest at an hour."""

    __tablename__ = "subscription"

    RULES = ("any_change", "above", "below", "daily")

    id: Mapped[int] = Column(Integer, primary_key=True)
    farmer_id: Mapped[int] = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    product_id: Mapped[int] = Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False)
    region_id: Mapped[Optional[int]] = Column(Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True)
    rule: Mapped[str] = Column(String(16), nullable=False, default="any_change")
    threshold: Mapped[Optional[Decimal]] = Column(Numeric(PRICE_PRECISION, PRICE_SCALE), nullable=True)
    daily_hour: Mapped[Optional[int]] = Column(Integer, nullable=True)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)

    farmer: Mapped[Farmer] = relationship("Farmer")
    product: Mapped[Product] = relationship("Product")
    region: Mapped[Optional[Region]] = relationship("Region")


class HandoffTicket(Base, Timestamped):
    """A farmer's question handed to a person: the officers of the region see and answer it."""

    __tablename__ = "handoff_ticket"

    STATUSES = ("open", "answered", "delivered", "closed")

    id: Mapped[int] = Column(Integer, primary_key=True)
    farmer_id: Mapped[int] = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    question: Mapped[str] = Column(Text, nullable=False)
    # The Rasa conversation (sender id) the console links to for the transcript.
    conversation_id: Mapped[str] = Column(String(128), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="open", index=True)
    region_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True, index=True
    )
    assignee_id: Mapped[Optional[int]] = Column(Integer, ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    answer: Mapped[Optional[str]] = Column(Text, nullable=True)
    answered_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    delivered_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    # Set when the ticket went unanswered for HANDOFF_ESCALATE_AFTER_HOURS and moved one region up
    # (knowledge/handoff/escalation.py): the inbox shows where it came from and when.
    escalated_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    escalated_from_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("region.id", ondelete="SET NULL"), nullable=True
    )

    farmer: Mapped[Farmer] = relationship("Farmer")
    region: Mapped[Optional[Region]] = relationship("Region", foreign_keys=[region_id])
    escalated_from: Mapped[Optional[Region]] = relationship("Region", foreign_keys=[escalated_from_id])
    assignee: Mapped[Optional[Account]] = relationship("Account")
    attachments: Mapped[List[FarmerAttachment]] = relationship(
        "FarmerAttachment", back_populates="handoff_ticket", order_by="FarmerAttachment.created_at"
    )


class FarmerAttachment(Base):
    """A voice message, photo, video or file a farmer sent on Telegram; linked to the ticket it was handed over with.

    Only Telegram's file id is kept, not the file: officers fetch it through the Bot API when they
    open it (console.telegram_files), so the bot stores no farmer's pictures or voice.
    """

    __tablename__ = "farmer_attachment"
    # The handoff looks up one farmer's recent, not yet handed-over media.
    __table_args__ = (Index("ix_farmer_attachment_farmer_id_created_at", "farmer_id", "created_at"),)

    KINDS = ("voice", "audio", "photo", "video", "video_note", "document")  # plain text in the DB, no constraint

    id: Mapped[int] = Column(Integer, primary_key=True)
    farmer_id: Mapped[int] = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False)
    handoff_ticket_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("handoff_ticket.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = Column(String(16), nullable=False)
    telegram_file_id: Mapped[str] = Column(String(256), nullable=False)
    duration_seconds: Mapped[Optional[int]] = Column(Integer, nullable=True)
    file_size: Mapped[Optional[int]] = Column(Integer, nullable=True)
    file_name: Mapped[Optional[str]] = Column(String(256), nullable=True)
    mime_type: Mapped[Optional[str]] = Column(String(128), nullable=True)
    caption: Mapped[Optional[str]] = Column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)

    farmer: Mapped[Farmer] = relationship("Farmer")
    handoff_ticket: Mapped[Optional[HandoffTicket]] = relationship("HandoffTicket", back_populates="attachments")


class Feedback(Base):
    """A farmer's 👍/👎 on one bot answer, kept per answer."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("conversation_id", "message_id", name="uq_feedback_message"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(128), nullable=False, index=True)
    # Identifies the answer being rated (the action's answer id sent with the buttons).
    message_id: Mapped[str] = Column(String(64), nullable=False)
    rating: Mapped[int] = Column(Integer, nullable=False)
    comment: Mapped[Optional[str]] = Column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)


class ConversationReview(Base, Timestamped):
    """A reviewer's verdict on one Rasa conversation: reviewed or not, tags, a flag and a note.

    The conversation itself lives in Rasa's tracker store, which the console never writes; this
    row is keyed by the tracker's sender id.
    """

    __tablename__ = "conversation_review"

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, unique=True)
    reviewed: Mapped[bool] = Column(Boolean, nullable=False, default=False, index=True)
    reviewed_by: Mapped[Optional[str]] = Column(String(64), nullable=True)
    reviewed_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    flagged: Mapped[bool] = Column(Boolean, nullable=False, default=False, index=True)
    # Comma-separated, normalised (trimmed, no duplicates, sorted) so "has tag X" is a LIKE away.
    tags: Mapped[str] = Column(String(256), nullable=False, default="")
    note: Mapped[Optional[str]] = Column(Text, nullable=True)


class MessageCorrection(Base, Timestamped):
    """A reviewer's correct intent and entities for one farmer message, exported as NLU training data."""

    __tablename__ = "message_correction"
    __table_args__ = (UniqueConstraint("conversation_id", "event_id", name="uq_message_correction_event"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    # The tracker store's event row id; the text is copied so the correction outlives the tracker DB.
    event_id: Mapped[int] = Column(Integer, nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    predicted_intent: Mapped[Optional[str]] = Column(String(64), nullable=True)
    intent: Mapped[str] = Column(String(64), nullable=False)
    # The message in Rasa's inline annotation ("[玉米](product)多少钱"), the form data/nlu/ uses.
    annotated_text: Mapped[str] = Column(Text, nullable=False)


class Push(Base):
    """One message the gateway pushes to a farmer (price alert, daily digest, officer's answer): the outbox.

    `push_key` names the logical push ("handoff:12", "daily:3:2026-11-22"), so the same push is
    written once however many gateway processes notice it, and a restart neither loses nor repeats it.
    """

    __tablename__ = "push"
    __table_args__ = (Index("ix_push_status_next_attempt_at", "status", "next_attempt_at"),)

    KINDS = ("price_alert", "daily_digest", "handoff_answer", "deferred_answer")
    # pending: waiting to be sent (or, for the web chat, fetched); sending: claimed by one gateway
    # process; sent: delivered; failed: given up after retries, or the chat is gone.
    STATUSES = ("pending", "sending", "sent", "failed")

    id: Mapped[int] = Column(Integer, primary_key=True)
    push_key: Mapped[str] = Column(String(160), nullable=False, unique=True)
    kind: Mapped[str] = Column(String(16), nullable=False)
    farmer_id: Mapped[int] = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    subscription_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("subscription.id", ondelete="SET NULL"), nullable=True, index=True
    )
    handoff_ticket_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("handoff_ticket.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # What the alert was about (product, market, date and figures), to tell a real change from a re-import.
    fingerprint: Mapped[Optional[str]] = Column(String(64), nullable=True)
    text: Mapped[str] = Column(Text, nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)
    claimed_by: Mapped[Optional[str]] = Column(String(64), nullable=True)
    claimed_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    sent_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    last_error: Mapped[Optional[str]] = Column(String(256), nullable=True)
    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)

    farmer: Mapped[Farmer] = relationship("Farmer")
    subscription: Mapped[Optional[Subscription]] = relationship("Subscription")
    handoff_ticket: Mapped[Optional[HandoffTicket]] = relationship("HandoffTicket")


class DeferredMessage(Base):
    """A farmer's message the gateway could not answer in time: kept here until Rasa has capacity again.

    The farmer was told it will be answered shortly; the gateway's drain (bot/deferred_drain.py) sends it to
    Rasa when capacity returns, oldest first and one at a time per farmer, and puts the answer in the push
    outbox (`push_key` "deferred:<id>"), in the same transaction that marks the row answered. Its text is
    cleared then: the conversation itself is in Rasa's tracker store.
    """

    __tablename__ = "deferred_message"
    __table_args__ = (Index("ix_deferred_message_status_next_attempt_at", "status", "next_attempt_at"),)

    # waiting: to be sent to Rasa; answering: sent (or being sent) by `claimed_by`, whose lease may expire;
    # answered: the answer is in the outbox; failed: Rasa answered with an error, and the farmer was told so.
    STATUSES = ("waiting", "answering", "answered", "failed")

    id: Mapped[int] = Column(Integer, primary_key=True)
    farmer_id: Mapped[int] = Column(Integer, ForeignKey("farmer.id", ondelete="CASCADE"), nullable=False, index=True)
    sender_id: Mapped[str] = Column(String(128), nullable=False, index=True)
    text: Mapped[str] = Column(Text, nullable=False)
    # The metadata sent to Rasa with the message (channel, chat id, region), as JSON.
    message_metadata: Mapped[str] = Column(Text, nullable=False, default="{}")
    status: Mapped[str] = Column(String(16), nullable=False, default="waiting")
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)
    claimed_by: Mapped[Optional[str]] = Column(String(64), nullable=True)
    claimed_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    received_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)
    answered_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    last_error: Mapped[Optional[str]] = Column(String(256), nullable=True)


class PushCursor(Base):
    """How far the push scheduler has read a changing table (price_record), kept across restarts."""

    __tablename__ = "push_cursor"

    name: Mapped[str] = Column(String(32), primary_key=True)
    position: Mapped[dt.datetime] = Column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ChatCallback(Base):
    """What a Telegram button means when its meaning does not fit in 64 bytes of callback_data.

    Long Rasa payloads and an officer's pending /setprice are stored here under a short key, so
    any gateway process (webhook mode behind a load balancer) can answer the button.
    """

    __tablename__ = "chat_callback"

    key: Mapped[str] = Column(String(32), primary_key=True)
    kind: Mapped[str] = Column(String(16), nullable=False)
    payload: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow, index=True)


class ScheduledRun(Base):
    """A job that must run once per due time however many processes try (the daily retention run).

    A process runs the job only after winning the conditional UPDATE that moves `due_at` to the new due
    time; `done_until` says how far the job has got, so the next run starts there instead of from the start.
    """

    __tablename__ = "scheduled_run"

    name: Mapped[str] = Column(String(32), primary_key=True)
    due_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    claimed_by: Mapped[Optional[str]] = Column(String(64), nullable=True)
    claimed_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    finished_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    done_until: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)


class ConversationErasure(Base):
    """A forgotten farmer's Rasa conversation still to be anonymised in the tracker store, under its new id.

    The console never writes the tracker store, so a farmer forgotten there waits here until the gateway's
    scheduler (or `python -m knowledge retention`) does that part; the row is removed once done.
    """

    __tablename__ = "conversation_erasure"

    id: Mapped[int] = Column(Integer, primary_key=True)
    sender_id: Mapped[str] = Column(String(255), nullable=False)
    new_sender_id: Mapped[str] = Column(String(255), nullable=False)
    requested_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)


class PriceFeed(Base, Timestamped):
    """A price file fetched on a schedule (knowledge.feeds): from a folder under var/ or an allowed HTTP(S) URL.

    `next_run_at` is the feed's lease: a process runs the feed only after winning the conditional UPDATE that
    moves it from the value it read to the next due time, so several gateways run each due time once.
    """

    __tablename__ = "price_feed"

    SOURCE_KINDS = ("folder", "url")
    OUTCOMES = ("ok", "unchanged", "failed")

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(48), nullable=False, unique=True)
    source_kind: Mapped[str] = Column(String(8), nullable=False)
    # A folder relative to PRICE_FEED_ROOT, or an http(s) URL on PRICE_FEED_ALLOWED_URLS.
    source: Mapped[str] = Column(String(512), nullable=False)
    # Our field → the feed's column header, as JSON; empty: the import's own headers (品名, 市场 …).
    column_map: Mapped[str] = Column(Text, nullable=False, default="")
    # "every:<minutes>" or "daily:<HH:MM>" in the installation's time zone (knowledge.feeds.schedule).
    schedule: Mapped[str] = Column(String(32), nullable=False)
    # Every market of a fetched file must be in this region or below it.
    region_id: Mapped[int] = Column(Integer, ForeignKey("region.id", ondelete="RESTRICT"), nullable=False)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    next_run_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, index=True)
    claimed_by: Mapped[Optional[str]] = Column(String(64), nullable=True)
    claimed_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    last_run_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    last_outcome: Mapped[Optional[str]] = Column(String(16), nullable=True)

    region: Mapped[Region] = relationship("Region")


class PriceFeedRun(Base):
    """One fetch of a feed: what file came, whether it landed, and every reason it did not (plain Chinese)."""

    __tablename__ = "price_feed_run"
    __table_args__ = (Index("ix_price_feed_run_feed_id_started_at", "feed_id", "started_at"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    feed_id: Mapped[int] = Column(Integer, ForeignKey("price_feed.id", ondelete="CASCADE"), nullable=False)
    started_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    outcome: Mapped[str] = Column(String(16), nullable=False)
    file_name: Mapped[Optional[str]] = Column(String(256), nullable=True)
    # SHA-256 of the fetched bytes: a folder's file or a URL's unchanged answer is not imported twice.
    sha256: Mapped[Optional[str]] = Column(String(64), nullable=True, index=True)
    rows: Mapped[int] = Column(Integer, nullable=False, default=0)
    # JSON list of the reasons, one per bad row or fetch problem.
    reasons: Mapped[str] = Column(Text, nullable=False, default="[]")
    batch_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("import_batch.id", ondelete="SET NULL"), nullable=True
    )

    feed: Mapped[PriceFeed] = relationship("PriceFeed")


class ImportBatch(Base):
    """One price file that landed (console upload, `python -m knowledge import-prices`, a feed); undoable as a whole."""

    __tablename__ = "import_batch"

    KINDS = ("console", "file", "feed")

    id: Mapped[int] = Column(Integer, primary_key=True)
    kind: Mapped[str] = Column(String(8), nullable=False)
    feed_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("price_feed.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source_name: Mapped[str] = Column(String(256), nullable=False)
    author: Mapped[str] = Column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = Column(DateTime, nullable=False, default=utcnow, index=True)
    rows: Mapped[int] = Column(Integer, nullable=False, default=0)
    created: Mapped[int] = Column(Integer, nullable=False, default=0)
    updated: Mapped[int] = Column(Integer, nullable=False, default=0)
    undone_at: Mapped[Optional[dt.datetime]] = Column(DateTime, nullable=True)
    undone_by: Mapped[Optional[str]] = Column(String(64), nullable=True)

    feed: Mapped[Optional[PriceFeed]] = relationship("PriceFeed")


class ImportBatchRecord(Base):
    """A price record one batch wrote: the values it replaced (JSON; NULL when the batch created the record)
    and a digest of the values it left, so an undo can tell whether anything changed the record since."""

    __tablename__ = "import_batch_record"

    id: Mapped[int] = Column(Integer, primary_key=True)
    batch_id: Mapped[int] = Column(
        Integer, ForeignKey("import_batch.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # No foreign key: an officer may delete the record later, and the batch's history stays.
    price_record_id: Mapped[int] = Column(Integer, nullable=False)
    before: Mapped[Optional[str]] = Column(Text, nullable=True)
    after_digest: Mapped[str] = Column(String(64), nullable=False)
