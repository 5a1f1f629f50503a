"""Reading officers' price and article files (CSV as Excel writes it, .xlsx, YAML) and importing
them all or nothing; exporting the knowledge base back to the same CSV layout.

Every row is checked by the shared rule sets (knowledge.price_entry, knowledge.article_entry)
before anything is written. One bad row means nothing is written and every bad row is reported
by its line number, in plain Chinese, because the officer has to fix the file in Excel.
The caller owns the transaction: the CLI commits only a clean import, and an interruption rolls
everything back.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from knowledge.article_entry import CheckedArticle, article_input, check_article, save_article
from knowledge.audit import record_change, record_changes
from knowledge.models import Article, Market, PriceRecord, Product, Region, TopicAlias
from knowledge.price_entry import CheckedPrice, LookupCache, PriceInput, check_price, clean_text, save_prices

logger = logging.getLogger(__name__)

# field → the headers that name it, Chinese first (what the export writes), then English aliases.
PRICE_HEADERS: Dict[str, Tuple[str, ...]] = {
    "product": ("品名", "产品", "品种", "product"),
    "market": ("市场", "market"),
    "region": ("地区", "所在地区", "region"),
    "min_price": ("最低价", "min_price"),
    "avg_price": ("平均价", "均价", "avg_price"),
    "max_price": ("最高价", "max_price"),
    "unit": ("单位", "unit"),
    "date": ("发布日期", "日期", "date", "report_date"),
    "source": ("来源", "source"),
    "confidence": ("可信度", "confidence"),
    "note": ("备注", "note"),
}
PRICE_REQUIRED = ("product", "market", "unit", "date", "source")
PRICE_ANY_OF = ("min_price", "avg_price", "max_price")

ARTICLE_HEADERS: Dict[str, Tuple[str, ...]] = {
    "category": ("分类", "类别", "category"),
    "topic": ("主题", "topic"),
    "title": ("标题", "title"),
    "questions": ("问法", "常见问法", "问题", "questions"),
    "answer": ("答案", "回答", "answer"),
    "region": ("地区", "适用地区", "region"),
    "doc_number": ("文号", "doc_number"),
    "source": ("来源", "source"),
    "published_on": ("发布日期", "published_on"),
    "effective_on": ("生效日期", "effective_on"),
    "confidence": ("可信度", "confidence"),
    "status": ("状态", "status"),
}
ARTICLE_REQUIRED = ("category", "topic", "title", "answer", "source")

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
YAML_SUFFIXES = (".yml", ".yaml")


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is plain Chinese."""


@dataclass
class RowProblem:
    """Everything wrong with one row of the file."""

    line: int
    reasons: List[str]

    def __str__(self) -> str:
        return f"第{self.line}行：{'；'.join(self.reasons)}"


@dataclass
class ImportReport:
    """The outcome of an import: what was written, or every problem found (and nothing written)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    new_markets: List[str] = field(default_factory=list)
    problems: List[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row passed and the import was written."""
        return not self.problems


@dataclass
class Table:
    """A file's rows as dictionaries keyed by field name, each with its line number in the file."""

    header_line: int
    fields: List[str]
    rows: List[Tuple[int, Dict[str, Any]]]


# --- reading files -----------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    """Text of a CSV as Excel saves it: UTF-8 with or without BOM, UTF-16 ("Unicode text"), or GBK/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Chinese Excel saves "CSV" in the ANSI code page, GBK; GB18030 is its superset.
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise ImportFileError("文件编码看不懂，请在 Excel 里另存为“CSV UTF-8”或普通 CSV") from error


def _csv_rows(path: Path) -> Iterator[Tuple[int, List[Any]]]:
    text = decode_text(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";", "，"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            # A quoted cell may span lines; the next record starts after the last one read.
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(f"第{line}行 CSV 格式有误：{error}") from error


def _excel_rows(path: Path) -> Iterator[Tuple[int, List[Any]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise ImportFileError(f"Excel 文件打不开：{error}") from error
    try:
        sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def _header_key(value: Any) -> str:
    # "平均价（元/斤）" and " Avg_Price " both name a column; the bracket is a hint for people.
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", clean_text(value).lstrip("\ufeff"))
    return text.replace(" ", "").lower()


def _is_blank(cells: Sequence[Any]) -> bool:
    return all(cell is None or clean_text(cell) == "" for cell in cells)


def read_table(path: Path, headers: Dict[str, Tuple[str, ...]], required: Sequence[str],
               any_of: Sequence[str] = ()) -> Tuple[Optional[Table], List[RowProblem]]:
    """Read a CSV or .xlsx file into rows keyed by field; problems with the header are returned as line problems."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        rows = _csv_rows(path)
    elif suffix in EXCEL_SUFFIXES:
        rows = _excel_rows(path)
    elif suffix == ".xls":
        raise ImportFileError("不支持旧版 .xls 文件，请在 Excel 里另存为 .xlsx 或 CSV")
    else:
        raise ImportFileError(f"不支持的文件类型“{path.suffix}”，请用 CSV 或 .xlsx")
    lookup = {_header_key(name): field_name for field_name, names in headers.items() for name in names}

    header_line = 0
    columns: Dict[int, str] = {}
    body: List[Tuple[int, Dict[str, Any]]] = []
    for line, cells in rows:
        if not header_line:
            if _is_blank(cells):
                continue
            header_line = line
            problems = []
            for index, cell in enumerate(cells):
                name = lookup.get(_header_key(cell))
                if name is None:
                    continue  # extra columns (一级分类, 产地, 规格 …) are kept out, not refused
                if name in columns.values():
                    problems.append(f"列“{cell}”重复了")
                columns[index] = name
            for name in required:
                if name not in columns.values():
                    problems.append(f"缺少必需的列“{headers[name][0]}”（也可写作 {headers[name][-1]}）")
            if any_of and not any(name in columns.values() for name in any_of):
                wanted = "、".join(headers[name][0] for name in any_of)
                problems.append(f"至少要有一列价格：{wanted}")
            if problems:
                return None, [RowProblem(line, problems)]
            continue
        if _is_blank(cells):
            continue
        body.append((line, {name: cells[index] if index < len(cells) else None for index, name in columns.items()}))
    if not header_line:
        return None, [RowProblem(1, ["文件是空的，没有表头"])]
    return Table(header_line, list(columns.values()), body), []


# --- prices ------------------------------------------------------------------------------------

def check_price_rows(
    session: Session, table: Table, today: dt.date
) -> Tuple[List[Tuple[int, CheckedPrice]], List[RowProblem]]:
    """Check every row with the shared price rules; returns the good rows and every problem."""
    cache = LookupCache(session)
    good: List[Tuple[int, CheckedPrice]] = []
    problems: List[RowProblem] = []
    for line, row in table.rows:
        check = check_price(
            session,
            PriceInput(
                product=row.get("product"),
                market=row.get("market"),
                date=row.get("date"),
                unit=row.get("unit"),
                source=row.get("source"),
                min_price=row.get("min_price"),
                avg_price=row.get("avg_price"),
                max_price=row.get("max_price"),
                region=row.get("region"),
                confidence=row.get("confidence") or "V",
                note=row.get("note"),
            ),
            today=today,
            cache=cache,
        )
        if check.price is None:
            problems.append(RowProblem(line, check.errors))
        else:
            good.append((line, check.price))
    return good, problems


def import_prices(session: Session, path: Path, actor: str, today: Optional[dt.date] = None) -> ImportReport:
    """Import a price file all or nothing; the caller commits only when the report is ok."""
    today = today or dt.date.today()
    table, problems = read_table(path, PRICE_HEADERS, PRICE_REQUIRED, PRICE_ANY_OF)
    if table is None:
        return ImportReport(problems=problems)
    good, problems = check_price_rows(session, table, today)
    report = ImportReport(rows=len(table.rows), problems=problems)
    if problems:
        logger.info("Price import of %s refused: %d of %d rows have problems", path.name, len(problems), report.rows)
        return report
    result = save_prices(session, [price for _, price in good], author=actor)
    report.created, report.updated, report.new_markets = result.created, result.updated, result.new_markets
    for name in result.new_markets:
        record_change(session, actor, "create", "market", None, None, {"name": name, "via": path.name})
    record_changes(session, actor, "update", "price_record",
                   ((change.record_id, change.before, change.after) for change in result.updates))
    record_change(session, actor, "import", "price_record", None, None, {
        "file": path.name, "rows": report.rows, "created": report.created, "updated": report.updated,
    })
    logger.info("Imported %s: %d rows, %d new, %d updated", path.name, report.rows, report.created, report.updated)
    return report


# --- articles ----------------------------------------------------------------------------------

def _yaml_articles(path: Path) -> Tuple[List[Tuple[int, Dict[str, Any]]], Dict[str, List[str]]]:
    text = decode_text(path.read_bytes())
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ImportFileError(f"YAML 格式有误：{error}") from error
    aliases: Dict[str, List[str]] = {}
    items_node = root
    if isinstance(data, dict):
        aliases = data.get("topic_aliases") or {}
        data = data.get("articles") or []
        items_node = next((value for key, value in root.value if key.value == "articles"), None)
    if not isinstance(data, list):
        raise ImportFileError("YAML 文件里应当是文章列表（articles:）")
    lines = [node.start_mark.line + 1 for node in items_node.value] if items_node is not None else []
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ImportFileError(f"第{lines[index]}行：每篇文章应当是“键: 值”的形式")
        rows.append((lines[index], item))
    return rows, aliases


def _check_topic_aliases(session: Session, aliases: Dict[str, List[str]]) -> Tuple[List[Tuple[str, str]], List[str]]:
    new: List[Tuple[str, str]] = []
    problems: List[str] = []
    known = dict(session.execute(select(TopicAlias.alias, TopicAlias.topic)).all())
    for topic, names in aliases.items():
        for alias in names or []:
            alias = clean_text(alias)
            owner = known.get(alias)
            if owner is None:
                new.append((alias, topic))
                known[alias] = topic
            elif owner != topic:
                problems.append(f"别名“{alias}”已经属于主题“{owner}”，不能再给“{topic}”")
    return new, problems


@dataclass
class ArticleRows:
    """An article file read and checked: the good articles by (topic, title), new topic aliases, every problem."""

    rows: int
    good: Dict[Tuple[str, str], CheckedArticle]
    new_aliases: List[Tuple[str, str]]
    problems: List[RowProblem]


def check_article_file(session: Session, path: Path, today: dt.date) -> ArticleRows:
    """Read an article file (CSV, .xlsx or YAML) and check every row with the shared rules; writes nothing."""
    new_aliases: List[Tuple[str, str]] = []
    if path.suffix.lower() in YAML_SUFFIXES:
        rows, aliases = _yaml_articles(path)
        new_aliases, alias_problems = _check_topic_aliases(session, aliases)
        problems = [RowProblem(1, alias_problems)] if alias_problems else []
    else:
        table, problems = read_table(path, ARTICLE_HEADERS, ARTICLE_REQUIRED)
        if table is None:
            return ArticleRows(0, {}, [], problems)
        rows = table.rows
    good: Dict[Tuple[str, str], CheckedArticle] = {}
    for line, row in rows:
        check = check_article(session, article_input(row), today=today)
        if check.article is None:
            problems.append(RowProblem(line, check.errors))
        else:
            good[(check.article.topic, check.article.title)] = check.article  # a repeated row: the later wins
    return ArticleRows(len(rows), good, new_aliases, problems)


def import_articles(session: Session, path: Path, actor: str, today: Optional[dt.date] = None) -> ImportReport:
    """Import an article file (CSV, .xlsx or YAML) all or nothing; the caller commits only when the report is ok."""
    checked_file = check_article_file(session, path, today or dt.date.today())
    report = ImportReport(rows=checked_file.rows, problems=checked_file.problems)
    if report.problems:
        return report
    for alias, topic in checked_file.new_aliases:
        session.add(TopicAlias(alias=alias, topic=topic))
        record_change(session, actor, "create", "topic_alias", None, None, {"alias": alias, "topic": topic})
    for checked in checked_file.good.values():
        _, created = save_article(session, checked, author=actor)
        if created:
            report.created += 1
        else:
            report.updated += 1
    record_change(session, actor, "import", "article", None, None, {
        "file": path.name, "rows": report.rows, "created": report.created, "updated": report.updated,
    })
    return report


# --- export ------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    # UTF-8 with BOM: what Excel needs to open Chinese text without garbling; import reads it back.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(value) for value in row])
            count += 1
    return count


def export_prices(session: Session, path: Path) -> int:
    """Write every price record as entered, in the import layout (re-importable); returns the row count."""
    region = aliased(Region)
    query = (
        select(Product.name, Market.name, region.name, PriceRecord.entered_min, PriceRecord.entered_avg,
               PriceRecord.entered_max, PriceRecord.entered_unit, PriceRecord.report_date, PriceRecord.source,
               PriceRecord.confidence, PriceRecord.note)
        .join(Product, Product.id == PriceRecord.product_id)
        .join(Market, Market.id == PriceRecord.market_id)
        .join(region, region.id == Market.region_id)
        .order_by(PriceRecord.report_date, Product.name, Market.name)
        .execution_options(yield_per=5000)
    )
    fields = ("product", "market", "region", "min_price", "avg_price", "max_price", "unit", "date", "source",
              "confidence", "note")
    return _write_csv(path, [PRICE_HEADERS[name][0] for name in fields], session.execute(query))


def export_articles(session: Session, path: Path) -> int:
    """Write every article (drafts too) in the import layout; returns the row count."""
    query = (
        select(Article.category, Article.topic, Article.title, Article.questions, Article.answer, Region.name,
               Article.doc_number, Article.source, Article.published_on, Article.effective_on, Article.confidence,
               Article.status)
        .outerjoin(Region, Region.id == Article.region_id)
        .order_by(Article.category, Article.topic, Article.id)
    )
    rows = ((*row[:5], row[5] or "全国", *row[6:]) for row in session.execute(query))
    return _write_csv(path, [names[0] for names in ARTICLE_HEADERS.values()], rows)
