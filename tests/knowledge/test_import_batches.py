"""Undoing an imported price batch as a whole: what it created goes, what it replaced comes back, audited;
a record changed since makes the undo refuse; undoing the later batch first makes the earlier undoable again."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from knowledge.cli import main
from knowledge.files.prices import import_prices
from knowledge.models import AuditLog, ImportBatch, PriceRecord
from knowledge.prices.batches import BatchOrigin, undo_batch
from knowledge.prices.editing import update_price
from knowledge.prices.queries import latest_price
from knowledge.prices.validation import PriceInput, check_price

HEADER = "品名,市场,地区,最低价,平均价,最高价,单位,发布日期,来源\n"
CORN_115 = "玉米,石家庄桥西市场,石家庄,,1.15,,元/斤,2026-11-20,信息员采集\n"
CORN_145 = "玉米,石家庄桥西市场,石家庄,,1.45,,元/斤,2026-11-20,信息员采集\n"
WHEAT_130 = "小麦,石家庄桥西市场,石家庄,,1.30,,元/斤,2026-11-20,信息员采集\n"


def write(path: Path, rows: str) -> Path:
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def ours(session, figure: str) -> PriceRecord:
    """The record these tests imported with the average `figure`."""
    return session.scalars(select(PriceRecord).where(PriceRecord.entered_avg == Decimal(figure),
                                                     PriceRecord.source == "信息员采集")).one()


def land(kb, path: Path, today, actor: str = "officer:li"):
    with kb.scope() as session:
        report = import_prices(session, path, actor, today=today, origin=BatchOrigin("file", path.name))
    assert report.ok, report.problems
    return report


def avg(kb, today, product: str = "玉米", where: str = "石家庄") -> Decimal:
    with kb.scope() as session:
        return latest_price(session, product, where, today=today).quote.avg_price


def test_undo_restores_what_the_batch_replaced_and_removes_what_it_created(kb, tmp_path, today):
    first = land(kb, write(tmp_path / "a.csv", CORN_115), today)
    with kb.scope() as session:
        records_before = session.scalar(select(func.count(PriceRecord.id)))
    second = land(kb, write(tmp_path / "b.csv", CORN_145
                                                + WHEAT_130),
                  today, actor="officer:wang")
    assert (second.created, second.updated) == (1, 1)
    assert avg(kb, today) == Decimal("1.45")

    with kb.scope() as session:
        report = undo_batch(session, second.batch_id, "admin")
    assert report.ok and (report.removed, report.restored) == (1, 1)
    assert avg(kb, today) == Decimal("1.15")
    with kb.scope() as session:
        assert session.scalar(select(func.count(PriceRecord.id))) == records_before
        restored = ours(session, "1.15")
        assert restored.entered_by == "officer:li"  # what the batch replaced, as it was
        batch = session.get(ImportBatch, second.batch_id)
        assert batch.undone_by == "admin" and batch.undone_at is not None
        undo = session.scalars(select(AuditLog).where(AuditLog.action == "undo")).one()
        assert undo.actor == "admin" and undo.entity_id == second.batch_id and '"removed": 1' in undo.after

    # Then the first batch too: everything it wrote is gone.
    with kb.scope() as session:
        report = undo_batch(session, first.batch_id, "admin")
    assert report.ok and (report.removed, report.restored) == (1, 0)
    with kb.scope() as session:
        assert session.scalar(select(func.count(PriceRecord.id))) == records_before - 1


def test_an_undone_batch_cannot_be_undone_twice(kb, tmp_path, today):
    batch = land(kb, write(tmp_path / "a.csv", CORN_115), today)
    with kb.scope() as session:
        assert undo_batch(session, batch.batch_id, "admin").ok
    with kb.scope() as session:
        again = undo_batch(session, batch.batch_id, "admin")
    assert again.problems == ["这个批次已经撤销过了"]


def test_a_record_changed_since_refuses_the_undo_and_changes_nothing(kb, tmp_path, today):
    land(kb, write(tmp_path / "a.csv", CORN_115), today)
    second = land(kb, write(tmp_path / "b.csv", CORN_145
                                                + WHEAT_130),
                  today)
    with kb.scope() as session:  # an officer corrects the wheat price after the import
        record = ours(session, "1.30")
        checked = check_price(session, PriceInput("小麦", "石家庄桥西市场", "2026-11-20", "元/斤", "信息员采集",
                                                  avg_price="1.32"), today=today)
        update_price(session, record, checked.price, "officer:zhao")
    session = kb.session()
    try:
        report = undo_batch(session, second.batch_id, "admin")
        assert not report.ok
        session.rollback()  # the caller's part: a refused undo commits nothing
    finally:
        session.close()
    assert len(report.problems) == 1 and "小麦" in report.problems[0] and "officer:zhao" in report.problems[0]
    assert avg(kb, today) == Decimal("1.45")  # the corn of the batch is still there: all or nothing
    with kb.scope() as session:
        assert session.get(ImportBatch, second.batch_id).undone_at is None
        assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "undo")) == 0


def test_undoing_the_later_batch_first_makes_the_earlier_one_undoable(kb, tmp_path, today):
    first = land(kb, write(tmp_path / "a.csv", CORN_115), today)
    second = land(kb, write(tmp_path / "b.csv", CORN_145), today)
    with kb.scope() as session:
        refused = undo_batch(session, first.batch_id, "admin")
        assert not refused.ok
        session.rollback()
    with kb.scope() as session:
        assert undo_batch(session, second.batch_id, "admin").ok
    with kb.scope() as session:
        assert undo_batch(session, first.batch_id, "admin").ok


def test_the_command_line_prints_the_batch_and_undoes_it(kb, tmp_path, today, capsys):
    land(kb, write(tmp_path / "a.csv", CORN_115), today)
    path = write(tmp_path / "b.csv", CORN_145)
    assert main(["--db", kb.url, "import-prices", str(path), "--actor", "cli:li"]) == 0
    printed = capsys.readouterr().out
    batch = int(printed.split("批次 #")[1].split("，")[0])
    assert f"undo-import {batch}" in printed
    assert avg(kb, today) == Decimal("1.45")
    assert main(["--db", kb.url, "undo-import", str(batch), "--actor", "cli:li"]) == 0
    assert "恢复被覆盖的 1 条" in capsys.readouterr().out
    assert avg(kb, today) == Decimal("1.15")
    assert main(["--db", kb.url, "undo-import", str(batch)]) == 1
    assert "已经撤销过了" in capsys.readouterr().err
