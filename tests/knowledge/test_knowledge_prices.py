"""Price queries: latest price with region fallback, units, staleness, trend and market comparison."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from knowledge.catalog.units import UnknownUnitError, convert_price, format_price, normalise_unit
from knowledge.prices.queries import compare_markets, latest_price, price_trend
from knowledge.prices.saving import save_price
from knowledge.prices.validation import PriceInput, check_price


def add_price(session, today, product, market, date, avg=None, low=None, high=None, unit="元/斤", region=None,
              source="信息员上报"):
    """Save one price through the shared rules, as the console would."""
    check = check_price(
        session,
        PriceInput(product=product, market=market, date=date, unit=unit, source=source,
                   min_price=low, avg_price=avg, max_price=high, region=region),
        today=today,
    )
    assert check.errors == []
    return save_price(session, check.price, author="test")[0]


# --- units ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        ("2.30", "元/公斤", "元/斤", "1.15"),
        ("1.15", "元/斤", "元/公斤", "2.30"),
        ("119", "元/50公斤", "元/斤", "1.19"),
        ("2400", "元/吨", "元/斤", "1.20"),
        ("11.44", "元/kg", "元/斤", "5.72"),
    ],
)
def test_prices_convert_between_weight_units(value, source, target, expected):
    assert format_price(convert_price(Decimal(value), source, target)) == expected


def test_unit_spellings_normalise_and_unknown_units_are_refused_in_chinese():
    assert normalise_unit("斤") == "元/斤"
    assert normalise_unit("元／KG") == "元/公斤"
    assert normalise_unit("元每千克") == "元/公斤"
    with pytest.raises(UnknownUnitError, match="不认识的单位"):
        normalise_unit("元/箱")


# --- latest price ----------------------------------------------------------------------------------

def test_latest_national_price_is_converted_into_the_asked_unit_with_its_age(kb, today):
    with kb.scope() as session:
        per_jin = latest_price(session, "猪肉", today=today)
        per_kg = latest_price(session, "猪肉", unit="元/公斤", today=today)
    assert per_jin.quote.report_date == dt.date(2025, 3, 4)
    assert per_jin.quote.avg_price == Decimal("10.355")
    assert per_jin.quote.unit == "元/斤"
    assert per_kg.quote.avg_price == Decimal("20.71")
    assert per_jin.quote.age_days == (today - dt.date(2025, 3, 4)).days == 628
    assert per_jin.quote.source.startswith("农业农村部")
    assert per_jin.answered_region is None and not per_jin.fell_back


def test_aliases_reach_the_product_and_the_production_area_average_is_preferred_on_the_same_day(kb, today):
    with kb.scope() as session:
        answer = latest_price(session, "苞米", today=today)
    quote = answer.quote
    assert quote.product == "玉米"
    assert quote.report_date == dt.date(2024, 9, 30)
    # Both 主产区 (产区均价) and 主销区 (批发市场) reported that day; the production area answers.
    assert quote.market == "玉米主产区批发市场"
    assert (quote.min_price, quote.max_price) == (Decimal("1.00"), Decimal("1.05"))


def test_region_with_its_own_market_answers_for_itself(kb, today):
    with kb.scope() as session:
        by_county = latest_price(session, "大白菜", "丰台", today=today)
        by_city = latest_price(session, "白菜", "北京", today=today)
        by_market = latest_price(session, "大白菜", "新发地", today=today)
    assert by_county.answered_region == "丰台" and not by_county.fell_back
    assert by_city.answered_region == "北京" and not by_city.fell_back
    assert by_market.quote.market == "北京新发地农产品批发市场"
    assert by_county.quote.avg_price == Decimal("0.58")


def test_region_without_prices_falls_back_to_the_nearest_wider_region_then_national(kb, today):
    with kb.scope() as session:
        add_price(session, today, "大白菜", "邯郸蔬菜批发市场", "2025-02-10", avg="0.50", region="邯郸")
    with kb.scope() as session:
        wider = latest_price(session, "大白菜", "藁城", today=today)
        national = latest_price(session, "大白菜", "广西", today=today)
    assert wider.fell_back and wider.answered_region == "河北省"
    assert wider.quote.market == "邯郸蔬菜批发市场"
    assert wider.quote.avg_price == Decimal("0.50")
    # No national figure for 大白菜: the two markets of comparable dates answer together, never as 全国.
    assert national.fell_back and national.answered_region is None
    assert national.basis == "several"
    assert national.quote.report_date == dt.date(2025, 2, 10)
    assert national.coverage.markets == 2


def test_unknown_product_and_product_without_prices_give_none(kb, today):
    with kb.scope() as session:
        assert latest_price(session, "榴莲", today=today) is None
        assert latest_price(session, "土豆", "河北", today=today) is None


def test_a_newly_saved_price_is_answered_at_once(kb, today):
    with kb.scope() as session:
        add_price(session, today, "苞谷", "石家庄桥西市场", today.isoformat(), avg="1.30", region="石家庄")
    with kb.scope() as session:
        answer = latest_price(session, "玉米", "石家庄", today=today)
    assert answer.quote.report_date == today
    assert answer.quote.age_days == 0
    assert answer.quote.avg_price == Decimal("1.30")
    assert answer.answered_region == "石家庄"



def test_price_as_of_a_day_is_the_newest_on_or_before_it_in_the_region_or_wider(kb, today):
    with kb.scope() as session:
        add_price(session, today, "大白菜", "邯郸蔬菜批发市场", "2025-01-10", avg="0.40", region="邯郸")
        add_price(session, today, "大白菜", "邯郸蔬菜批发市场", "2025-02-10", avg="0.50", region="邯郸")
    with kb.scope() as session:
        before_february = latest_price(session, "大白菜", "邯郸", today=today, as_of=dt.date(2025, 1, 31))
        on_the_day = latest_price(session, "大白菜", "邯郸", today=today, as_of=dt.date(2025, 2, 10))
        # 河北 has nothing before 2025-01-10: the national series (新发地, 2025-02-08) has nothing either.
        too_early = latest_price(session, "大白菜", "邯郸", today=today, as_of=dt.date(2024, 12, 31))
        national = latest_price(session, "猪肉", today=today, as_of=dt.date(2024, 12, 31))
    assert before_february.quote.report_date == dt.date(2025, 1, 10)
    assert before_february.quote.avg_price == Decimal("0.40")
    assert before_february.answered_region == "邯郸"
    assert on_the_day.quote.avg_price == Decimal("0.50")
    assert too_early is None
    # The age is still counted from today: the answer says how old the figure is.
    assert national.quote.report_date == dt.date(2024, 10, 31)
    assert national.quote.age_days == (today - dt.date(2024, 10, 31)).days

# --- trend -------------------------------------------------------------------------------------------

def _rising_series(session, today, start=Decimal("1.00"), step=Decimal("0.02"), days=40):
    first_day = today - dt.timedelta(days=days - 1)
    for offset in range(days):
        add_price(session, today, "玉米", "石家庄桥西市场", (first_day + dt.timedelta(days=offset)).isoformat(),
                  avg=str(start + step * offset), region="石家庄")


def test_trend_over_the_last_30_days_goes_up_with_percent_first_and_last(kb, today):
    with kb.scope() as session:
        _rising_series(session, today)
    with kb.scope() as session:
        trend = price_trend(session, "玉米", "石家庄", days=30, today=today)
    assert trend.direction == "up"
    assert trend.market == "石家庄桥西市场"
    assert len(trend.points) == 31  # the window includes both ends
    assert trend.first.report_date == today - dt.timedelta(days=30)
    assert trend.first.price == Decimal("1.18")
    assert trend.last.report_date == today and trend.last.price == Decimal("1.78")
    assert trend.change_percent == Decimal("50.8")
    assert trend.age_days == 0 and trend.enough_data


def test_trend_over_the_last_n_records_in_kilograms(kb, today):
    with kb.scope() as session:
        _rising_series(session, today)
    with kb.scope() as session:
        trend = price_trend(session, "玉米", "石家庄", records=5, unit="元/公斤", today=today)
    assert [point.price for point in trend.points] == [Decimal(v) for v in ("3.40", "3.44", "3.48", "3.52", "3.56")]
    assert trend.change_percent == Decimal("4.7")


def test_national_trend_by_records_goes_down_and_a_single_day_is_flat(kb, today):
    with kb.scope() as session:
        by_records = price_trend(session, "猪肉", records=3, unit="元/公斤", today=today)
        one_day = price_trend(session, "猪肉", days=30, today=today)
    assert [p.report_date for p in by_records.points] == [dt.date(2024, 10, 24), dt.date(2024, 10, 31),
                                                          dt.date(2025, 3, 4)]
    assert by_records.first.price == Decimal("24.83") and by_records.last.price == Decimal("20.71")
    assert by_records.direction == "down"
    assert by_records.change_percent == Decimal("-16.6")
    assert by_records.age_days == 628
    assert one_day.direction == "flat" and not one_day.enough_data and one_day.change_percent == Decimal("0.0")


def test_small_moves_are_flat(kb, today):
    with kb.scope() as session:
        _rising_series(session, today, start=Decimal("2.000"), step=Decimal("0.001"), days=10)
    with kb.scope() as session:
        trend = price_trend(session, "玉米", "石家庄", today=today)
    assert trend.change_percent == Decimal("0.4")
    assert trend.direction == "flat"


def test_trend_falls_back_like_latest_price_and_none_without_data(kb, today):
    with kb.scope() as session:
        trend = price_trend(session, "生猪", "藁城", today=today)
        assert price_trend(session, "榴莲", today=today) is None
        assert price_trend(session, "土豆", today=today) is None
    assert trend.fell_back and trend.answered_region is None
    assert trend.market == "全国生猪（土杂猪）收购均价"


# --- comparison -------------------------------------------------------------------------------------

def test_compare_markets_highest_lowest_and_region_against_national(kb, today):
    with kb.scope() as session:
        comparison = compare_markets(session, "生猪", "广西", today=today)
    assert comparison.highest.market == "浙江生猪收购均价"
    assert comparison.highest.avg_price == Decimal("6.09")
    assert comparison.lowest.market == "广西生猪收购均价"
    assert comparison.lowest.avg_price == Decimal("5.03")
    assert comparison.national_price == Decimal("5.72")
    assert comparison.national_basis == "全国生猪（土杂猪）收购均价"
    assert comparison.regional_price == Decimal("5.03")
    assert comparison.regional_vs_national_percent == Decimal("-12.1")
    assert comparison.answered_region == "广西" and not comparison.fell_back
    assert [quote.market for quote in comparison.quotes] == [
        "浙江生猪收购均价", "全国生猪（土杂猪）收购均价", "广西生猪收购均价"]


def test_compare_markets_without_an_official_average_uses_the_mean_and_falls_back(kb, today):
    with kb.scope() as session:
        add_price(session, today, "大白菜", "邯郸蔬菜批发市场", "2025-02-10", avg="0.50", region="邯郸")
        add_price(session, today, "大白菜", "寿光蔬菜批发市场", "2025-02-09", avg="0.40", region="寿光")
        # Older than the 7-day window before the newest record: not compared.
        add_price(session, today, "大白菜", "郑州蔬菜批发市场", "2025-01-01", avg="0.90", region="郑州")
    with kb.scope() as session:
        comparison = compare_markets(session, "大白菜", "藁城", unit="元/斤", today=today)
    assert comparison.highest.market == "北京新发地农产品批发市场"
    assert comparison.lowest.market == "寿光蔬菜批发市场"
    # No national market recorded 大白菜: the reference is the markets' mean, never called national.
    assert comparison.national_basis == "多地平均" and not comparison.national_is_national
    assert comparison.national_price == Decimal("0.4933")  # (0.58 + 0.50 + 0.40) / 3
    assert comparison.market_count == 3
    assert comparison.coverage.provinces == ("北京市", "山东省", "河北省")
    assert comparison.answered_region == "河北省" and comparison.fell_back
    assert comparison.regional_price == Decimal("0.50")
    assert comparison.regional_vs_national_percent is None
    assert "郑州蔬菜批发市场" not in [quote.market for quote in comparison.quotes]
