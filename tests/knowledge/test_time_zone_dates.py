"""One time zone (TIMEZONE, Asia/Shanghai by default) for today, the future-date check, dashboard days and the
console's times (issue 15).

Expected before the fix: on a UTC server a price dated today entered before 08:00 Beijing time was refused
("in the future"), the dashboard counted UTC days, and the console showed UTC times without saying so.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from knowledge.local_time import local_today
from knowledge.prices.validation import PriceInput, check_price
from settings import load_settings

# UTC+14 and UTC−11: at any moment the date in one of them differs from the UTC date.
_FAR_ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago")


def _zone_whose_date_differs_from_utc() -> str:
    utc_today = dt.datetime.now(dt.timezone.utc).date()
    return next(name for name in _FAR_ZONES if dt.datetime.now(zoneinfo.ZoneInfo(name)).date() != utc_today)


def test_the_future_date_check_uses_the_installations_day_not_the_servers(kb, environment):
    name = _zone_whose_date_differs_from_utc()
    environment(TIMEZONE=name)
    local = local_today()
    assert local != dt.datetime.now(dt.timezone.utc).date()
    with kb.scope() as session:
        def errors(date: dt.date) -> list:
            return check_price(session, PriceInput(product="玉米", market="藁城区玉米收购点", region="藁城", date=date,
                                                   unit="元/斤", source="s", avg_price="1.10")).errors
        # A price dated the installation's today is taken, whatever the server's UTC date is …
        assert errors(local) == []
        # … and the day after it is still in the future.
        tomorrow = local + dt.timedelta(days=1)
        assert errors(tomorrow) == [f"发布日期 {tomorrow.isoformat()} 在今天之后"]


def test_an_unknown_time_zone_stops_the_process_with_one_line(environment):
    with pytest.raises(SystemExit, match="TIMEZONE"):
        environment(TIMEZONE="Asia/Nowhere")
        load_settings()
