"""The demo people of the console tests and the screenshots: accounts of every role, farmers, tickets and feedback."""
from __future__ import annotations

import datetime as dt
from typing import Dict

from knowledge.catalog.lookup import find_region
from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.models import Farmer, FarmerAttachment, Feedback, HandoffTicket
from knowledge.people.accounts import create_account
from scripts.demo_conversations import DAY, PRICE_ANSWER_ID

PASSWORD = "correct-horse-9"  # noqa: S105 (the demo accounts' password, in throwaway databases only)
# username → (role, region)
ACCOUNTS: Dict[str, tuple] = {
    "admin": ("admin", None),
    "gaocheng": ("officer", "藁城区"),
    "fengtai": ("officer", "丰台区"),
    "reviewer": ("reviewer", None),
}


def add_people(url: str) -> None:
    """Add the accounts, farmers, two handoff tickets (one with a voice message) and a 👎 to the DB at `url`."""
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        for username, (role, region) in ACCOUNTS.items():
            create_account(session, username, PASSWORD, role, region, display_name=f"{username}名")
        gaocheng, fengtai = find_region(session, "藁城区"), find_region(session, "丰台区")
        farmers = {
            "tg-1001": Farmer(sender_id="tg-1001", channel="telegram", chat_id="1001", display_name="老王",
                              region=gaocheng),
            "web-5f3a": Farmer(sender_id="web-5f3a", channel="web", display_name="李大姐 13912345678",
                               region=gaocheng),
            "tg-2002": Farmer(sender_id="tg-2002", channel="telegram", chat_id="2002", region=fengtai),
        }
        session.add_all(farmers.values())
        created = dt.datetime.fromtimestamp(DAY + 3621, dt.timezone.utc).replace(tzinfo=None)
        session.add(HandoffTicket(farmer=farmers["web-5f3a"], question="我电话13812345678，我家玉米能卖多少钱？",
                                  conversation_id="web-5f3a", region=gaocheng, created_at=created))
        fengtai_ticket = HandoffTicket(farmer=farmers["tg-2002"], question="丰台的补贴标准是多少",
                                       conversation_id="tg-2002", region=fengtai, created_at=created)
        session.add(fengtai_ticket)
        # Attachment 1: a voice message the farmer sent before asking for a person.
        session.add(FarmerAttachment(farmer=farmers["tg-2002"], handoff_ticket=fengtai_ticket, kind="voice",
                                     telegram_file_id="demo-voice-2002", duration_seconds=8, file_size=12800,
                                     mime_type="audio/ogg", created_at=created))
        session.add(Feedback(conversation_id="tg-1001", message_id=PRICE_ANSWER_ID, rating=-1))
    engine.dispose()
