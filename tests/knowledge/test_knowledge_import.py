"""Importing officers' files all or nothing, and exporting them back."""
from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

import knowledge.files.prices as price_files
import knowledge.prices.bulk_saving as bulk_saving
from knowledge.articles.search import search_articles
from knowledge.cli import main
from knowledge.files.articles import export_articles, import_articles
from knowledge.files.prices import export_prices, import_prices
from knowledge.files.tables import ImportFileError
from knowledge.models import Article, AuditLog, Market, PriceRecord, TopicAlias
from knowledge.prices.queries import latest_price

HEADER = "品名,市场,地区,最低价,平均价,最高价,单位,发布日期,来源\n"


def write(path: Path, content: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(content.encode(encoding))
    return path


def counts(kb):
    """(price records, markets, audit entries) now in the database."""
    with kb.scope() as session:
        return tuple(session.scalar(select(func.count(model.id))) for model in (PriceRecord, Market, AuditLog))


def test_good_csv_is_imported_and_answered_at_once(kb, tmp_path, today):
    path = write(tmp_path / "prices.csv", HEADER
                 + "苞米,石家庄桥西市场,石家庄,1.10,1.15,1.20,元/斤,2026-11-20,信息员采集\n"
                 + "大白菜,石家庄桥西市场,石家庄,,0.62,,元/斤,2026/11/20,信息员采集\n")
    with kb.scope() as session:
        report = import_prices(session, path, actor="officer:li", today=today)
    assert report.ok and (report.rows, report.created, report.updated) == (2, 2, 0)
    assert report.new_markets == ["石家庄桥西市场"]
    with kb.scope() as session:
        answer = latest_price(session, "玉米", "石家庄", today=today)
        record = session.scalars(select(PriceRecord).where(PriceRecord.id == select(func.max(PriceRecord.id))
                                                           .scalar_subquery())).one()
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "import")).one()
    assert answer.quote.avg_price == Decimal("1.15") and answer.answered_region == "石家庄"
    assert record.entered_by == "officer:li" and record.entered_unit == "元/斤"
    assert audit.actor == "officer:li" and '"created": 2' in audit.after


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_csv_as_excel_saves_it_in_any_encoding(kb, tmp_path, today, encoding):
    path = write(tmp_path / "prices.csv", HEADER.replace(",", "\t" if encoding == "utf-16" else ",")
                 + ("大白菜,北京新发地农产品批发市场,,0.55,0.58,0.60,元/斤,2025-02-09,北京新发地价格行情\r\n"
                    .replace(",", "\t" if encoding == "utf-16" else ",")), encoding)
    with kb.scope() as session:
        report = import_prices(session, path, actor="test", today=today)
    assert report.ok and report.created == 1
    with kb.scope() as session:
        assert latest_price(session, "大白菜", "新发地", today=today).quote.report_date == dt.date(2025, 2, 9)


def test_english_headers_with_unit_hints_and_extra_columns(kb, tmp_path, today):
    path = write(tmp_path / "prices.csv",
                 "Product,Market,Region,一级分类,avg_price(元/公斤),unit,date,source,产地\n"
                 "番茄,寿光农产品物流园,寿光,蔬菜,1,元/公斤,2025-01-01,信息员,冀\n", "utf-8-sig")
    with kb.scope() as session:
        report = import_prices(session, path, actor="test", today=today)
        assert report.ok, report.problems
        quote = latest_price(session, "西红柿", "寿光", unit="元/公斤", today=today).quote
    assert quote.avg_price == Decimal("1") and quote.market == "寿光农产品物流园"


def test_xlsx_with_dates_numbers_blank_rows_and_line_numbers(kb, tmp_path, today):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["品名", "市场", "地区", "最低价", "平均价", "最高价", "单位", "发布日期", "来源"])
    sheet.append(["土豆", "郑州蔬菜批发市场", "郑州", 0.9, 1.05, 1.2, "元/斤", dt.datetime(2026, 11, 1), "信息员"])
    sheet.append([None] * 9)
    sheet.append(["洋芋", "郑州蔬菜批发市场", "郑州", None, 2.2, None, "元/公斤", dt.date(2026, 11, 2), "信息员"])
    path = tmp_path / "prices.xlsx"
    workbook.save(path)
    with kb.scope() as session:
        report = import_prices(session, path, actor="test", today=today)
        assert report.ok and report.created == 2
        quote = latest_price(session, "马铃薯", "河南", today=today).quote
    assert quote.report_date == dt.date(2026, 11, 2) and quote.avg_price == Decimal("1.1")

    sheet.append(["土豆", "郑州蔬菜批发市场", "郑州", 2, None, 1, "元/斤", dt.date(2026, 11, 3), "信息员"])
    workbook.save(path)
    with kb.scope() as session:
        report = import_prices(session, path, actor="test", today=today)
    assert [problem.line for problem in report.problems] == [5]
    assert "最低价 2 高于最高价 1" in str(report.problems[0])


def test_every_bad_row_is_named_by_line_and_nothing_is_written(kb, tmp_path, today):
    path = write(tmp_path / "bad.csv", HEADER
                 + "玉米,玉米主产区批发市场,,1.00,,1.05,元/斤,2026-11-01,信息员\n"          # line 2: good
                 + "苞米米,玉米主产区批发市场,,1.00,,1.05,元/斤,2026-11-01,信息员\n"        # 3: unknown product
                 + "玉米,玉米主产区批发市场,,-1,,1.05,元/斤,2026-11-01,信息员\n"            # 4: negative
                 + '"玉米",玉米主产区批发市场,,一块二,,1.05,元/斤,2026-11-01,"信息员\n王五"\n'  # 5-6: non-numeric
                 + "玉米,玉米主产区批发市场,,1.30,,1.05,元/斤,2026-11-01,信息员\n"          # 7: min > max
                 + "玉米,玉米主产区批发市场,,1.00,,1.05,元/斤,2099-01-01,信息员\n"          # 8: future date
                 + "玉米,玉米主产区批发市场,,1.00,,1.05,元/斤,去年秋天,信息员\n"            # 9: unreadable date
                 + "玉米,无名小市场,,1.00,,1.05,元/斤,2026-11-01,信息员\n"                  # 10: new market, no region
                 + "玉米,玉米主产区批发市场,,1.00,,1.05,元/箱,2026-11-01,\n")               # 11: unit, no source
    before = counts(kb)
    with kb.scope() as session:
        report = import_prices(session, path, actor="test", today=today)
    assert not report.ok
    problems = {problem.line: str(problem) for problem in report.problems}
    assert sorted(problems) == [3, 4, 5, 7, 8, 9, 10, 11]
    assert "不认识的品名“苞米米”" in problems[3]
    assert "最低价不能是负数（-1）" in problems[4]
    assert "最低价“一块二”不是数字" in problems[5]
    assert "最低价 1.30 高于最高价 1.05" in problems[7]
    assert "发布日期 2099-01-01 在今天之后" in problems[8]
    assert "发布日期“去年秋天”看不懂" in problems[9]
    assert "新市场“无名小市场”需要写明所在地区" in problems[10]
    assert "不认识的单位" in problems[11] and "缺少来源" in problems[11]
    assert all(text.startswith(f"第{line}行：") for line, text in problems.items())
    assert counts(kb) == before


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("品名,市场,地区,最低价,平均价,最高价,单位,发布日期\n", "缺少必需的列“来源”"),
        ("品名,地区,平均价,单位,发布日期,来源\n", "缺少必需的列“市场”"),
        ("品名,市场,单位,发布日期,来源\n", "至少要有一列价格"),
        ("品名,品名,市场,平均价,单位,发布日期,来源\n", "列“品名”重复了"),
    ],
)
def test_a_missing_or_repeated_column_refuses_the_file(kb, tmp_path, today, header, reason):
    path = write(tmp_path / "prices.csv", "\n" + header + "玉米,玉米主产区批发市场,1.0,元/斤,2026-11-01,信息员\n")
    before = counts(kb)
    with kb.scope() as session:
        report = import_prices(session, path, actor="test", today=today)
    assert [problem.line for problem in report.problems] == [2]  # the header, after a blank first line
    assert reason in str(report.problems[0])
    assert counts(kb) == before


def test_unreadable_files_are_refused_whole(kb, tmp_path, today):
    with kb.scope() as session:
        with pytest.raises(ImportFileError, match="xlsx"):
            import_prices(session, write(tmp_path / "old.xls", "x"), actor="test", today=today)
        with pytest.raises(ImportFileError, match="不支持的文件类型"):
            import_prices(session, write(tmp_path / "prices.pdf", "x"), actor="test", today=today)
        report = import_prices(session, write(tmp_path / "empty.csv", "\n\n"), actor="test", today=today)
    assert "文件是空的" in str(report.problems[0])


def test_a_repeated_price_updates_in_place_and_is_audited(kb, tmp_path, today):
    row = "玉米,玉米主产区批发市场,,{low},,{high},元/斤,2026-11-01,信息员\n"
    first = write(tmp_path / "first.csv", HEADER + row.format(low="1.00", high="1.05"))
    second = write(tmp_path / "second.csv", HEADER + row.format(low="1.10", high="1.15")
                   + row.format(low="1.12", high="1.18"))  # the same key twice in one file: the later wins
    with kb.scope() as session:
        assert import_prices(session, first, actor="li", today=today).created == 1
    before = counts(kb)
    with kb.scope() as session:
        report = import_prices(session, second, actor="wang", today=today)
    assert (report.created, report.updated) == (0, 1)
    after = counts(kb)
    assert after[0] == before[0] and after[1] == before[1]
    with kb.scope() as session:
        quote = latest_price(session, "玉米", today=today).quote
        change = session.scalars(select(AuditLog).where(AuditLog.action == "update",
                                                        AuditLog.entity == "price_record")).one()
    assert (quote.min_price, quote.max_price) == (Decimal("1.12"), Decimal("1.18"))
    assert change.actor == "wang"
    assert '"entered_min": "1.0' in change.before and '"entered_min": "1.12"' in change.after


def test_an_import_interrupted_mid_write_leaves_nothing_behind(kb, tmp_path, monkeypatch):
    rows = "".join(f"玉米,新开的{n}号收购点,周口,1.0{n},,1.1{n},元/斤,2026-11-0{n},信息员\n" for n in range(1, 7))
    path = write(tmp_path / "prices.csv", HEADER + rows)
    before = counts(kb)
    written = []
    original = bulk_saving._write_chunk

    def fail_on_second_chunk(session, inserts, updates):
        if written:
            raise RuntimeError("power cut")
        original(session, inserts, updates)
        written.append(len(inserts))

    monkeypatch.setattr(price_files, "save_prices", functools.partial(bulk_saving.save_prices, chunk_size=2))
    monkeypatch.setattr(bulk_saving, "_write_chunk", fail_on_second_chunk)
    with pytest.raises(RuntimeError, match="power cut"):
        main(["--db", kb.url, "import-prices", str(path)])
    assert written == [2]  # the first chunk really was written before the failure
    assert counts(kb) == before

    def interrupt(session, inserts, updates):
        original(session, inserts, updates)
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk_saving, "_write_chunk", interrupt)
    assert main(["--db", kb.url, "import-prices", str(path)]) == 130
    assert counts(kb) == before


def test_cli_import_exits_non_zero_naming_every_bad_row(kb, tmp_path, capsys):
    bad = write(tmp_path / "bad.csv", HEADER + "苞米米,玉米主产区批发市场,,1,,2,元/斤,2025-01-01,x\n"
                + "玉米,玉米主产区批发市场,,3,,2,元/斤,2025-01-01,x\n", "gbk")
    before = counts(kb)
    assert main(["--db", kb.url, "import-prices", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "没有写入任何数据" in err and "第2行：不认识的品名“苞米米”" in err and "第3行：最低价 3 高于最高价 2" in err
    assert counts(kb) == before
    good = write(tmp_path / "good.csv", HEADER + "玉米,玉米主产区批发市场,,1,,2,元/斤,2025-01-01,x\n")
    assert main(["--db", kb.url, "import-prices", str(good), "--actor", "officer:zhao"]) == 0
    assert "新增 1" in capsys.readouterr().out
    assert main(["--db", kb.url, "import-prices", str(tmp_path / "missing.csv")]) == 2


# --- articles ------------------------------------------------------------------------------------

ARTICLE_HEADER = "分类,主题,标题,问法,答案,地区,文号,来源,发布日期,可信度,状态\n"


def test_article_csv_import_is_searchable_at_once_and_repeats_update(kb, tmp_path, today):
    path = write(tmp_path / "articles.csv", ARTICLE_HEADER
                 + '政策,耕地地力保护补贴,藁城区粮补标准,"粮补一亩多少\n藁城粮补标准",'
                 + "藁城区2026年粮补每亩120元。,藁城,,藁城区财政局公示,2026-05-01,V,已发布\n", "gbk")
    with kb.scope() as session:
        report = import_articles(session, path, actor="officer:li", today=today)
        assert report.ok and report.created == 1
    with kb.scope() as session:
        hits = search_articles(session, "粮补一亩多少", region="藁城")
        assert hits[0].title == "藁城区粮补标准" and hits[0].region == "藁城区"
        assert import_articles(session, path, actor="officer:li", today=today).updated == 1
        assert session.scalar(select(func.count(Article.id)).where(Article.title == "藁城区粮补标准")) == 1


def test_article_yaml_import_with_aliases_and_bad_items_by_line(kb, tmp_path, today):
    path = write(tmp_path / "articles.yml", """topic_aliases:
  耕地地力保护补贴: [地补]
articles:
  - category: policy
    topic: 耕地地力保护补贴
    title: 地补说明
    answer: 地补就是粮补。
    source: 测试
  - category: 天气
    topic: 天气
    title: 明天
    answer: 晴，每亩100元
    source: 测试
    confidence: U
    region: 火星
""")
    with kb.scope() as session:
        report = import_articles(session, path, actor="test", today=today)
    assert [problem.line for problem in report.problems] == [9]
    reasons = str(report.problems[0])
    assert "分类“天气”不对" in reasons and "以当地公示为准" in reasons and "不认识的地区“火星”" in reasons
    with kb.scope() as session:
        assert session.scalar(select(func.count(TopicAlias.id)).where(TopicAlias.alias == "地补")) == 0
    path.write_text(path.read_text(encoding="utf-8").split("  - category: 天气")[0], encoding="utf-8")
    with kb.scope() as session:
        assert import_articles(session, path, actor="test", today=today).ok
    with kb.scope() as session:
        assert search_articles(session, "地补")[0].via_folk_term == "耕地地力保护补贴"


def test_export_writes_what_import_reads_back(kb, tmp_path, today):
    with kb.scope() as session:
        price_rows = export_prices(session, tmp_path / "prices.csv")
        article_rows = export_articles(session, tmp_path / "articles.csv")
        total = session.scalar(select(func.count(PriceRecord.id)))
    assert price_rows == total == 89 and article_rows == 36
    assert (tmp_path / "prices.csv").read_bytes().startswith(b"\xef\xbb\xbf\xe5\x93\x81\xe5\x90\x8d")  # BOM, 品名
    with kb.scope() as session:
        prices = import_prices(session, tmp_path / "prices.csv", actor="test", today=today)
        articles = import_articles(session, tmp_path / "articles.csv", actor="test", today=today)
    assert prices.ok and (prices.created, prices.updated) == (0, 89)
    assert articles.ok and (articles.created, articles.updated) == (0, 36)
    assert counts(kb)[0] == 89
