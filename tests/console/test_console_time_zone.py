"""One time zone (TIMEZONE, Asia/Shanghai by default) for today, the future-date check, dashboard days and the
console's times (issue 15).

Expected before the fix: on a UTC server a price dated today entered before 08:00 Beijing time was refused
("in the future"), the dashboard counted UTC days, and the console showed UTC times without saying so.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo

from knowledge.conversations.dashboard import dashboard_figures
from knowledge.conversations.tracker import TrackerReader
from knowledge.local_time import to_local, zone_label
from knowledge.models import AuditLog
from scripts.demo_knowledge import TODAY
from tests.console.conftest import sign_in


def test_dashboard_days_are_counted_in_the_time_zone(console_settings, knowledge, tracker_path):
    # The demo's first day of messages is 2026-11-20 08:00–09:00 UTC: 16:00 in Beijing, 21:00 the day before
    # in Pago Pago.
    reader = TrackerReader(f"sqlite:///{tracker_path}")
    try:
        with knowledge() as session:
            beijing = dict(dashboard_figures(session, reader, TODAY, days=30).messages_per_day)
            samoa = dict(dashboard_figures(session, reader, TODAY, days=30,
                                           zone=zoneinfo.ZoneInfo("Pacific/Pago_Pago")).messages_per_day)
    finally:
        reader.close()
    assert beijing["11-19"] == 0 and beijing["11-20"] == 4 and beijing["11-21"] == 1
    assert samoa["11-19"] == 4 and samoa["11-20"] == 1


async def test_console_times_are_beijing_time_and_say_so(client, knowledge):
    with knowledge() as session:
        session.add(AuditLog(at=dt.datetime(2026, 11, 20, 23, 30), actor="admin", action="update",
                             entity="price_record", entity_id=1, before="{}", after="{}"))
        session.commit()
    await sign_in(client, "admin")
    page = await (await client.get("/audit")).text()
    # 23:30 UTC is 07:30 the next morning in Beijing.
    assert "2026-11-21 07:30 北京时间" in page and "2026-11-20 23:30" not in page
    assert zone_label() == "北京时间"
    assert to_local(dt.datetime(2026, 11, 20, 23, 30)).isoformat() == "2026-11-21T07:30:00+08:00"
