"""The dashboard's figures come from the tracker store and the tickets, and are drawn as SVG charts."""
from __future__ import annotations

import datetime as dt

from knowledge.conversations.dashboard import dashboard_figures
from knowledge.conversations.tracker import TrackerReader
from knowledge.models import HandoffTicket
from scripts.demo_knowledge import TODAY
from tests.console.conftest import sign_in


def test_figures_from_a_real_tracker_store(knowledge, tracker_path) -> None:
    reader = TrackerReader(f"sqlite:///{tracker_path}")
    with knowledge() as session:
        ticket = session.get(HandoffTicket, 1)
        ticket.answered_at = ticket.created_at + dt.timedelta(hours=3)
        session.flush()
        figures = dashboard_figures(session, reader, TODAY, days=30)
        session.rollback()
    reader.close()
    per_day = dict(figures.messages_per_day)
    assert len(per_day) == 30 and per_day["11-20"] == 4 and per_day["11-21"] == 1 and per_day["11-22"] == 0
    assert figures.total_messages == 5 and figures.conversations == 3
    # Questions: 玉米多少钱一斤, the fallback, 找人工, 俺家粮补咋还没到 (the 👎 button press is not one).
    assert figures.fallback_rate == 0.25
    assert dict(figures.top_intents) == {"ask_price": 1, "nlu_fallback": 1, "request_human": 1, "ask_policy": 1}
    assert figures.top_products == [("玉米", 1)]
    assert figures.unanswered[0][1] == 1 and figures.unanswered[0][0].startswith("<script>")
    assert figures.tickets == 2 and figures.open_tickets == 2
    assert figures.handoff_rate == 2 / 3
    assert figures.median_hours_to_answer == 3.0


async def test_dashboard_page_draws_charts(client) -> None:
    await sign_in(client, "reviewer")  # every region's figures (an officer sees their own region's)
    page = await (await client.get("/?days=7")).text()
    assert page.count("<svg") >= 5
    assert 'aria-label="最近 7 天每天的消息数"' in page
    assert "<title>玉米：1次</title>" in page
    assert "25%" in page  # fallback rate
    assert "&lt;script&gt;" in page and "138****5678" in page  # the top unanswered question, escaped and masked
