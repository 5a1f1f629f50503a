"""Implausible prices are held (issue 15): the CLI import refuses a file with 生猪 at 118 元/斤 (ten times the
market) with a non-zero exit naming the row, writes it only with --accept-outliers, and audits it then.

Expected before the fix: the file was imported (exit 0) and 118 元/斤 answered to farmers.
"""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import func, select

from knowledge.cli import EXIT_OUTLIERS, main
from knowledge.files.prices import import_prices
from knowledge.models import AuditLog, PriceRecord, Product
from knowledge.prices.plausibility import PlausibilityCheck
from knowledge.prices.validation import PriceInput, check_price

HEADER = "品名,市场,地区,平均价,单位,发布日期,来源\n"


def _count(kb, product: str) -> int:
    with kb.scope() as session:
        return session.scalar(select(func.count(PriceRecord.id)).join(Product).where(Product.name == product))


def test_the_cli_refuses_a_typo_price_names_the_row_and_takes_it_only_when_accepted(kb, tmp_path, capsys):
    path = tmp_path / "hogs.csv"
    path.write_text(HEADER + "生猪,藁城生猪收购点,藁城区,5.90,元/斤,2026-11-20,县农业农村局\n"
                    "生猪,藁城生猪收购点,藁城区,118,元/斤,2026-11-21,县农业农村局\n", encoding="utf-8")
    before = _count(kb, "生猪")
    assert main(["--db", kb.url, "import-prices", str(path), "--actor", "officer_li"]) == EXIT_OUTLIERS
    err = capsys.readouterr().err
    # Seeded hog prices: 11.44, 10.06, 12.18 元/公斤, median 5.72 元/斤; 118 is 20.6 times that.
    assert "第3行：生猪 118.00元/斤 比近期中位数 5.72元/斤 高20.6倍（超过3倍），请核对是否写错" in err
    assert "第2行" not in err and "--accept-outliers" in err
    assert _count(kb, "生猪") == before, "nothing of the file is written"

    assert main(["--db", kb.url, "import-prices", str(path), "--actor", "officer_li", "--accept-outliers"]) == 0
    assert _count(kb, "生猪") == before + 2
    with kb.scope() as session:
        entries = session.scalars(select(AuditLog).where(AuditLog.action == "accept_outlier")).all()
    assert [(entry.actor, json.loads(entry.after)["avg"], json.loads(entry.after)["via"]) for entry in entries] == [
        ("officer_li", "118", "hogs.csv")]


def test_a_product_without_history_is_held_outside_its_category_band(kb, today):
    with kb.scope() as session:
        checker = PlausibilityCheck(session, Decimal(3))

        def outlier(avg: str):
            check = check_price(session, PriceInput(product="土豆", market="石家庄桥西市场", region="石家庄",
                                                    date=today, unit="元/斤", source="s", avg_price=avg), today=today)
            return checker.check(check.price)

        # 土豆 has no prices at all: its category's band decides.
        assert checker.recent_median(session.scalar(select(Product.id).where(Product.name == "土豆"))) is None
        assert outlier("1.20") is None
        held = outlier("95")
    assert held is not None
    assert held.reason == ("土豆 95.00元/斤 不在蔬菜的常见范围 0.05–40.00元/斤 内（还没有足够的历史价格），"
                           "请核对是否写错")


def test_the_factor_is_a_setting(kb, tmp_path, environment):
    path = tmp_path / "hogs.csv"
    path.write_text(HEADER + "生猪,藁城生猪收购点,藁城区,18,元/斤,2026-11-21,县农业农村局\n", encoding="utf-8")
    with kb.scope() as session:
        # 18 / 5.72 = 3.1 times the median: held at the default factor 3 …
        assert import_prices(session, path, "t").held
        session.rollback()
    environment(PRICE_OUTLIER_FACTOR="4")
    with kb.scope() as session:
        # … and taken when the installation allows a factor of 4.
        assert import_prices(session, path, "t").ok
