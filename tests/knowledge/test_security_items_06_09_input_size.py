"""Security items 6 and 9: input whose size or shape would cost the server far more than it costs the sender.

Item 6: a long question (hundreds of distinct words) used to build a full-text query quadratic in
its number of ideas (every pair), megabytes of MATCH text and about a second of work. Item 9:
upload bombs: a YAML file whose aliases expand exponentially when a field is read as text, an .xlsx
whose parts unpack to far more than any price sheet, and a header cell that made the header
cleaning regex quadratic in its length.
"""
from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from sqlalchemy import event

from knowledge.articles.search import search_articles
from knowledge.files.articles import import_articles
from knowledge.files.prices import PRICE_HEADERS, PRICE_REQUIRED
from knowledge.files.tables import ImportFileError, read_table

# 300 different two-character chunks: jieba cuts them into a couple of hundred distinct ideas.
_CHARACTERS = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
               "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性"
               "好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第"
               "向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管"
               "特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府")
LONG_QUESTION = "".join(_CHARACTERS[index:index + 2] for index in range(0, 600, 2)) + "小麦最低收购价是多少"
# Largest full-text query text a question may produce (the whole seed's longest real question needs ~1 KB).
MAX_QUERY_CHARACTERS = 20_000


def test_item06_a_long_question_builds_a_bounded_full_text_query(kb) -> None:
    sizes = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        sizes.append(max((len(value) for value in values if isinstance(value, str)), default=0))

    event.listen(kb.engine, "before_cursor_execute", remember)
    try:
        with kb.session() as session:
            hits = search_articles(session, LONG_QUESTION)
    finally:
        event.remove(kb.engine, "before_cursor_execute", remember)
    assert max(sizes) <= MAX_QUERY_CHARACTERS
    assert hits  # the question it ends in still finds its article


BILLION_LAUGHS = """\
a: &a ["哈哈哈哈哈哈哈哈"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
articles:
  - {category: 政策, topic: 最低收购价, title: *g, answer: 答案, source: 局}
"""


def test_item09_yaml_aliases_are_refused_before_anything_expands(kb, tmp_path) -> None:
    path = tmp_path / "bomb.yml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    with kb.session() as session, pytest.raises(ImportFileError, match="锚点"):
        import_articles(session, path, "admin", today=dt.date(2026, 11, 22))


def test_item09_an_xlsx_that_unpacks_to_too_much_is_refused_unopened(tmp_path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # 200 MB of zeros compress to about 200 KB: a small upload, a huge sheet.
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            block = b"0" * (1 << 20)
            for _ in range(200):
                part.write(block)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ImportFileError, match="太大"):
        read_table(path, PRICE_HEADERS, PRICE_REQUIRED)


def test_item09_a_huge_header_cell_is_refused_without_cleaning_it(tmp_path) -> None:
    path = tmp_path / "header.csv"
    # Each "(" without a closing bracket made the lazy cleaning regex scan to the end of the cell
    # again (13 s for this one); no column name is that long, so the cell is refused as it is.
    path.write_text("品名,市场," + "(" * 40_000 + "\n玉米,新发地,1\n", encoding="utf-8")
    table, problems = read_table(path, PRICE_HEADERS, PRICE_REQUIRED)
    assert table is None and "列名太长" in str(problems[0])
