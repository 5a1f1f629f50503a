"""Where a farmer is: their home region is set only when they say it is theirs; tickets of farmers with no home
go to the installation's region; an unanswered ticket moves one region up once per due time (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from knowledge.handoff.escalation import escalate_overdue
from knowledge.handoff.tickets import hand_over
from knowledge.models import Account, HandoffTicket, Region, Role
from knowledge.people.farmers import find_farmer, region_near, remember_farmer, set_home_region, set_home_region_id
from settings import load_settings


def test_saying_where_one_lives_stores_one_place_and_lists_several(kb):
    with kb.scope() as session:
        stored = set_home_region(session, "web-a", "webchat", "藁城")
        assert stored.stored == "河北省石家庄市藁城区"
        assert find_farmer(session, "web-a").region.name == "藁城区"
        shared = set_home_region(session, "web-b", "webchat", "鼓楼")
        assert shared.stored is None and len(shared.choices) == 4
        assert find_farmer(session, "web-b") is None  # nothing stored until they choose
        region_id, label = next(choice for choice in shared.choices if choice[1].startswith("江苏省南京市"))
        assert set_home_region_id(session, "web-b", "webchat", region_id).stored == label
        assert set_home_region(session, "web-c", "webchat", "火星").unknown


@pytest.mark.parametrize(("point", "county"), [
    ((34.76, 113.01), "巩义市"),
    ((38.03, 114.85), "藁城区"),
    ((36.86, 118.79), "寿光市"),
    ((0.0, 160.0), None),  # the Pacific
])
def test_a_shared_location_is_placed_in_its_county(kb, point, county):
    with kb.scope() as session:
        found = region_near(session, *point)
        assert (found.name if found else None) == county


def _officer(session, username, region_name):
    region = session.scalars(select(Region).where(Region.name == region_name)).first()
    account = Account(username=username, role=Role.OFFICER, region=region, password_hash="x", active=True)
    session.add(account)
    session.flush()
    return account


def test_a_farmer_with_no_home_goes_to_the_deployment_region(kb, monkeypatch):
    monkeypatch.setenv("DEPLOYMENT_REGION", "藁城")
    load_settings.cache_clear()
    try:
        with kb.scope() as session:
            officer = _officer(session, "gaocheng", "藁城区")
            farmer = remember_farmer(session, "web-nohome", "webchat")
            ticket = hand_over(session, farmer, "玉米怎么卖", "web-nohome", "（无）")
            assert ticket.region.name == "藁城区" and ticket.officer.id == officer.id
            assert farmer.region is None  # the ticket's region is not the farmer's home
    finally:
        load_settings.cache_clear()


def test_an_unanswered_ticket_moves_one_region_up_once_per_due_time(kb):
    opened = dt.datetime(2026, 11, 20, 8, 0)
    with kb.scope() as session:
        city_officer = _officer(session, "sjz", "石家庄市")
        set_home_region(session, "tg-77", "telegram", "藁城")
        farmer = find_farmer(session, "tg-77")
        ticket_id = hand_over(session, farmer, "补贴怎么领", "tg-77", "（无）").id
        session.get(HandoffTicket, ticket_id).created_at = opened
    with kb.scope() as session:
        assert escalate_overdue(session, opened + dt.timedelta(hours=23), 24) == 0
        assert escalate_overdue(session, opened + dt.timedelta(hours=25), 24) == 1
        # The same due time, seen again (another gateway, the next round): nothing more moves.
        assert escalate_overdue(session, opened + dt.timedelta(hours=25, minutes=1), 24) == 0
    with kb.scope() as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert (ticket.region.name, ticket.escalated_from.name) == ("石家庄市", "藁城区")
        assert ticket.assignee_id == city_officer.id
        assert ticket.escalated_at == opened + dt.timedelta(hours=25)
    with kb.scope() as session:
        assert escalate_overdue(session, opened + dt.timedelta(hours=49, minutes=1), 24) == 1
        assert session.get(HandoffTicket, ticket_id).region.name == "河北省"
        # The province is the top: it stays there.
        assert escalate_overdue(session, opened + dt.timedelta(hours=100), 24) == 0
        assert escalate_overdue(session, opened + dt.timedelta(hours=100), 0) == 0
