"""Officers' tables as files: reading CSV (as Excel writes it) and .xlsx into rows keyed by field, and writing
CSV that Excel opens and the import reads back.

Problems are reported by line number in plain Chinese, because the officer has to fix the file in Excel.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from knowledge.fields import clean_text

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# An .xlsx is a zip: a small upload can unpack to gigabytes (a "zip bomb"). A county's price sheet
# of 100,000 rows unpacks to well under this.
MAX_XLSX_UNPACKED_BYTES = 64 * 1024 * 1024
# No column name is longer; longer header cells are refused before any cleaning (the bracket regex
# below would be quadratic in a cell of thousands of unclosed brackets).
MAX_HEADER_CELL_LENGTH = 100


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
    # The price import's batch (knowledge.prices.batches), which can be undone as a whole.
    batch_id: Optional[int] = None
    # Rows that passed every rule but look implausible (knowledge.prices.plausibility), held unless accepted.
    held: List[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row passed, none was held, and the import was written."""
        return not self.problems and not self.held


@dataclass
class Table:
    """A file's rows as dictionaries keyed by field name, each with its line number in the file."""

    header_line: int
    fields: List[str]
    rows: List[Tuple[int, Dict[str, Any]]]


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


def _check_unpacked_size(path: Path) -> None:
    # Python's zipfile never inflates a member past the size the archive declares, so the declared
    # sizes bound the work openpyxl can be made to do.
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportFileError(f"Excel 文件打不开：{error}") from error
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ImportFileError(f"Excel 文件解压后太大（{unpacked // (1024 * 1024)} MB，最多 "
                              f"{MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)} MB），请分成几个文件上传")


def _excel_rows(path: Path) -> Iterator[Tuple[int, List[Any]]]:
    import openpyxl

    _check_unpacked_size(path)
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
                if len(clean_text(cell)) > MAX_HEADER_CELL_LENGTH:
                    problems.append(f"第{index + 1}列的列名太长（{len(clean_text(cell))} 字），不像表头")
                    continue
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
        body.append((line, {name: _without_formula_guard(cells[index]) if index < len(cells) else None
                            for index, name in columns.items()}))
    if not header_line:
        return None, [RowProblem(1, ["文件是空的，没有表头"])]
    return Table(header_line, list(columns.values()), body), []


# Excel runs a cell that starts with one of these as a formula (CSV injection). Exported text gets
# a leading apostrophe, which Excel shows as text; reading a file takes it off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # a number, negative or not, is no formula
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _without_formula_guard(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a header and rows as CSV for Excel; returns the row count."""
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
