"""Search over published policy and insurance articles, and the full-text index behind it.

Chinese has no spaces, so jieba segments every text (articles when they are written, questions
when they are asked) and the database's own engine does the matching and ranking: an FTS5
virtual table on SQLite, a tsvector column with a GIN index on PostgreSQL (migration 0002). Both
sides go through the same `segment`, so what was indexed is what a question can reach.

Folk terms ("粮补", "新农合") are rewritten into the official topic they stand for (TopicAlias)
before segmenting, so a farmer's word reaches the article filed under the official name.

The engine only gathers candidates: its dozen best are reordered by how close the question is to
each article's own wording (knowledge.articles.ranking), and among the yearly articles of one fact
the one for the year asked about, or the newest that applies, comes first (knowledge.articles.years).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import cn2an
from pypinyin import lazy_pinyin
from sqlalchemy import func, select, text, true
from sqlalchemy.orm import Session, joinedload

from knowledge.articles.index_table import SEARCH_INDEX_TABLE
from knowledge.articles.ranking import Wording, blended, wording_scores
from knowledge.articles.years import fact_of, prefer_asked_year
from knowledge.catalog.snapshot import catalog
from knowledge.local_time import local_today
from knowledge.models import Article, Region, TopicAlias
from nlu.simplified import to_simplified

logger = logging.getLogger(__name__)

# Official terms jieba's default dictionary would cut apart. cut_for_search still emits the
# sub-words too, so adding a word here only adds index terms and never breaks older rows.
DOMAIN_WORDS = (
    "耕地地力保护补贴", "最低收购价", "托市收购", "城乡居民养老保险", "城乡居民基本养老保险",
    "城乡居民医保", "城乡居民基本医疗保险", "大病保险", "异地就医", "农机购置与应用补贴",
    "农机购置补贴", "报废更新", "生产者补贴", "完全成本保险", "种植收入保险", "二轮延包",
    "土地承包", "基础养老金", "个人账户", "缴费档次", "一卡通", "一折通", "新农合", "新农保",
    "合作医疗", "老年金", "粮补", "保护价", "托市价", "种粮补贴", "植保无人机", "采棉机",
    "谷物烘干机", "抛秧机", "色选机", "磨粉机", "确权", "抛荒", "补缴", "协办员", "医保经办",
)
# Particles and pronouns that only add noise to an OR query; question words (多少, 什么时候)
# stay, because they tell the "how much" article from the "when" article.
STOPWORDS = frozenset((
    "的", "了", "吗", "呢", "啊", "吧", "呀", "哦", "嘛", "哈", "么", "我", "你", "他", "她", "俺", "咱",
    "我们", "你们", "咱们", "请问", "一下", "那", "这", "就", "都", "也", "还", "个", "是",
    # Yes-no tails ("…能领粮补不", "…还有没有"): every article could follow them.
    "不", "没", "没有", "还有", "有没有", "能不能", "是不是", "给不给", "行不行", "对不对", "中不中",
))
# How much more an article for the farmer's own region weighs than a national one of the same
# relevance: enough to put it first on the same question, not enough to lift an unrelated one.
# When the farmer's region is unknown, national articles weigh this much more than regional ones,
# which may not apply to them.
REGION_BOOST = 2.0
# FTS5 column weights (title, questions, answer, topic) for bm25.
_FTS5_WEIGHTS = (4.0, 3.0, 1.0, 4.0)
_WORD = re.compile(r"\w+")
_CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")
_CHINESE_ONLY = _CHINESE_RUN

_tokenizer_lock = threading.Lock()
_tokenizer = None

AliasTable = Sequence[Tuple[str, str]]
# Every statement below names the index table through this constant and passes the farmer's
# words only as bound parameters, hence the S608 exemptions.


def _jieba():
    """A private jieba tokenizer (the global one belongs to Rasa's JiebaTokenizer), built once."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                for word in DOMAIN_WORDS:
                    tokenizer.add_word(word, freq=20000)
                _tokenizer = tokenizer
    return _tokenizer


# Northern colloquial question words, written as the standard ones articles use.
_COLLOQUIAL = str.maketrans({"咋": "怎么", "啥": "什么"})
# Farmers ask the same thing in many words; articles use one. Each way of asking "how much",
# "when", "who" or "how many years" is written as the article's word, on both sides.
_ASKING = (
    (re.compile(r"几块几毛?|几块钱|几块|几毛钱|多少块钱?"), "多少钱"),
    (re.compile(r"几月份|几月|哪个月|哪天|哪一天|多会儿?|啥时候|啥时"), "什么时候"),
    (re.compile(r"什么人|啥人|哪些人|哪种人|哪类人"), "谁"),
    (re.compile(r"(?<![好这前十近])几年"), "多少年"),
    (re.compile(r"几岁|多少岁|多大年纪"), "多大岁数"),
    (re.compile(r"几十|几百|几千|几万"), "多少"),
    # Farmers' verbs for paying and drawing money, and their word for 户籍.
    (re.compile(r"掏钱|掏"), "交"),
    (re.compile(r"拿钱"), "领钱"),
    (re.compile(r"(?<=能)拿|拿(?=到钱)"), "领"),
    (re.compile(r"户口"), "户籍"),
    # 交 and 缴 are written for each other; 补缴 keeps its 缴 (a word of its own).
    (re.compile(r"补交"), "补缴"),
    (re.compile(r"(?<!补)缴"), "交"),
    (re.compile(r"哪里|哪儿|哪块"), "哪"),
)


_NUMERALS = re.compile("[零〇两一二三四五六七八九十百千万]+")
# After these a lone numeral is a count ("十年", "五千", "三块"); elsewhere it is part of a word
# ("一卡通", "二轮延包", "三分之二", "一样") and stays as written.
_COUNTED = frozenset("年岁元块亩斤万千百档月个次天人倍吨公")


def _numerals_as_digits(text: str) -> str:
    """Chinese numerals of amounts, years and ages as digits, by one rule for articles and questions alike."""
    def replace(match: "re.Match[str]") -> str:
        run = match.group(0)
        after = text[match.end():match.end() + 1]
        before = text[max(0, match.start() - 1):match.start()]
        if before == "几" or (len(run) == 1 and after not in _COUNTED):
            return run
        try:
            value = cn2an.cn2an(run, "smart")
        except (ValueError, KeyError, TypeError):
            return run
        return str(int(value)) if float(value).is_integer() else run

    return _NUMERALS.sub(replace, text)


def plain(value: str) -> str:
    """Half-width, simplified, numerals as digits, lower case: the farmer's words, only written one way.

    Numerals as digits on both sides, so "交十五年" meets "15年" and "再延长三十年" meets "30年".
    The rule ignores context on purpose: an article and a question must come out the same.
    """
    return _numerals_as_digits(to_simplified(unicodedata.normalize("NFKC", value or ""))).lower()


def normalise(value: str) -> str:
    """`plain`, with the ways of asking written as articles ask (几月份 → 什么时候, 咋 → 怎么, 补交 → 补缴)."""
    text = plain(value)
    for pattern, word in _ASKING:
        text = pattern.sub(word, text)
    return text.translate(_COLLOQUIAL)


def segment(value: str) -> List[str]:
    """The search terms of a text: jieba's search-mode words, without punctuation and particles."""
    words: List[str] = []
    for word in _jieba().cut_for_search(normalise(value)):
        for part in _WORD.findall(word):
            if part not in STOPWORDS:
                words.append(part)
    return words


# A word jieba's dictionary counts fewer times than this is treated as a run of single characters too.
RARE_WORD = 100


def concepts(value: str, products: Optional[Mapping[str, str]] = None) -> List[List[str]]:
    """The ideas of a question: each word of jieba's precise cut, with its search-mode sub-words (main word first).

    A product alias brings its canonical name along (稻子 → 稻谷), the name the articles use.
    """
    products = products or {}
    tokenizer = _jieba()
    groups: List[List[str]] = []
    seen: set = set()
    for word in tokenizer.cut(normalise(value)):
        for main in _WORD.findall(word):
            if main in STOPWORDS or main in seen:
                continue
            seen.add(main)
            subwords = [part for sub in tokenizer.cut_for_search(main) for part in _WORD.findall(sub)]
            if not main.isascii() and len(main) > 1 and tokenizer.FREQ.get(main, 0) < RARE_WORD:
                # A word jieba guessed or hardly knows ("能领", "卡里") is most likely two words run
                # together, which the article writes apart: its characters stand in as sub-words.
                subwords.extend(char for char in main if char not in STOPWORDS)
            named = [products[main]] if main in products else []
            groups.append(list(dict.fromkeys([main, *named, *(part for part in subwords if part not in STOPWORDS)])))
    return groups


def with_product_names(value: str, products: Mapping[str, str]) -> str:
    """The text followed by the canonical name of every product alias among its words ("稻子…" → "稻子… 稻谷")."""
    pattern = _alias_pattern(tuple(products))
    if pattern is None or not pattern.search(value):
        return value  # most texts name no product: no need to cut them into words
    names = [products[word] for word in _jieba().cut(value) if word in products]
    return " ".join([value, *dict.fromkeys(names)])


@lru_cache(maxsize=4)
def _alias_pattern(aliases: Tuple[str, ...]) -> Optional["re.Pattern[str]"]:
    return re.compile("|".join(map(re.escape, aliases))) if aliases else None


def _joined(value: Optional[str]) -> str:
    return " ".join(segment(value or ""))


# --- keeping the index in step -----------------------------------------------------------------

def _index_rows(articles: Iterable[Article]) -> List[Dict[str, object]]:
    return [
        {
            "id": article.id,
            "title": _joined(article.title),
            "questions": _joined(article.questions),
            "answer": _joined(article.answer),
            "topic": _joined(article.topic),
        }
        for article in articles
        if article.status == "published"
    ]


# Title and topic weigh most (A), then the question forms (B), then the answer (C).
_PG_DOCUMENT = (
    "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :topic), 'A') "
    "|| setweight(to_tsvector('simple', :questions), 'B') || setweight(to_tsvector('simple', :answer), 'C')"
)


def _write_index_rows(session: Session, rows: List[Dict[str, object]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        statement = text(
            f"INSERT INTO {SEARCH_INDEX_TABLE} (rowid, title, questions, answer, topic) "  # noqa: S608
            "VALUES (:id, :title, :questions, :answer, :topic)"
        )
    else:
        statement = text(
            f"INSERT INTO {SEARCH_INDEX_TABLE} (article_id, document) VALUES (:id, {_PG_DOCUMENT})"  # noqa: S608
        )
    session.execute(statement, rows)


def _delete_index_rows(session: Session, article_ids: List[int]) -> None:
    key = "rowid" if session.get_bind().dialect.name == "sqlite" else "article_id"
    statement = text(f"DELETE FROM {SEARCH_INDEX_TABLE} WHERE {key} = :id")  # noqa: S608
    session.execute(statement, [{"id": i} for i in article_ids])


def index_article(session: Session, article: Article) -> None:
    """Bring one article's index entry in line with it: indexed when published, absent otherwise.

    Every path that writes an article (seed, import, console) calls this in the same transaction.
    """
    session.flush()
    _delete_index_rows(session, [article.id])
    _write_index_rows(session, _index_rows([article]))


def rebuild_search_index(session: Session, batch_size: int = 500) -> int:
    """Re-segment and re-index every published article; returns how many were indexed."""
    session.flush()
    session.execute(text(f"DELETE FROM {SEARCH_INDEX_TABLE}"))  # noqa: S608
    indexed = 0
    query = select(Article).where(Article.status == "published").order_by(Article.id)
    for batch in session.scalars(query.execution_options(yield_per=batch_size)).partitions():
        rows = _index_rows(batch)
        _write_index_rows(session, rows)
        indexed += len(rows)
    logger.info("Search index rebuilt: %d published articles", indexed)
    return indexed


def _segmented_differently(session: Session) -> bool:
    """Whether the oldest and newest published articles are indexed otherwise than `segment` cuts them today."""
    first, last = session.execute(
        select(func.min(Article.id), func.max(Article.id)).where(Article.status == "published")
    ).one()
    samples = session.scalars(select(Article).where(Article.id.in_([first, last]))).all() if first else []
    for row in _index_rows(samples):
        if session.get_bind().dialect.name == "sqlite":
            stored = session.execute(text(
                f"SELECT title, questions, answer, topic FROM {SEARCH_INDEX_TABLE} WHERE rowid = :id"  # noqa: S608
            ), {"id": row["id"]}).first()
            same = stored is not None and tuple(stored) == (row["title"], row["questions"], row["answer"], row["topic"])
        else:
            same = bool(session.scalar(text(
                f"SELECT document = ({_PG_DOCUMENT}) FROM {SEARCH_INDEX_TABLE} WHERE article_id = :id"  # noqa: S608
            ), row))
        if not same:
            return True
    return False


def ensure_search_index(session: Session) -> int:
    """Rebuild the index when it does not hold exactly the published articles as `segment` cuts them today.

    Counts catch a migration that added the index (0002); a sample re-cut catches a release that
    changed how text is segmented or normalised, whose old index a question could no longer reach.
    """
    published = session.scalar(select(func.count(Article.id)).where(Article.status == "published")) or 0
    indexed = session.scalar(text(f"SELECT count(*) FROM {SEARCH_INDEX_TABLE}")) or 0  # noqa: S608
    if published == indexed and not _segmented_differently(session):
        return 0
    return rebuild_search_index(session)


# --- folk terms --------------------------------------------------------------------------------

def topic_aliases(session: Session) -> List[Tuple[str, str]]:
    """Every (folk term, official topic), longest term first so 农村养老保险 wins over 养老保险."""
    rows = session.execute(select(TopicAlias.alias, TopicAlias.topic)).all()
    return sorted(((normalise(alias), topic) for alias, topic in rows), key=lambda row: -len(row[0]))


def resolve_topic(session: Session, term: str) -> Optional[str]:
    """The official topic a folk term or official name stands for (粮补 → 耕地地力保护补贴), if any."""
    wanted = normalise(term).strip()
    for alias, topic in topic_aliases(session):
        if alias == wanted:
            return topic
    known = session.scalars(select(Article.topic).where(Article.topic == term.strip()).limit(1)).first()
    return known


@lru_cache(maxsize=16)
def _folk_term_pattern(
    aliases: Tuple[Tuple[str, str], ...],
) -> Tuple[Optional["re.Pattern[str]"], Dict[str, str], FrozenSet[str]]:
    """The compiled alternation of every folk term and official name, the term → topic table, and the official names."""
    table = {alias: topic for alias, topic in aliases if alias}
    if not table:
        return None, {}, frozenset()
    # The official names match too, as themselves, so that the alias 收购价 inside 最低收购价
    # is not taken for a folk term.
    official = {normalise(topic): topic for topic in set(table.values())}
    for name, topic in official.items():
        table.setdefault(name, topic)
    # One pass, longest first, so a topic just written in (完全成本保险和种植收入保险) is never
    # rewritten again by a shorter alias it contains (种植收入保险).
    pattern = re.compile("|".join(re.escape(alias) for alias in sorted(table, key=len, reverse=True)))
    return pattern, table, frozenset(official)


@lru_cache(maxsize=16)
def _folk_term_sounds(aliases: Tuple[Tuple[str, str], ...]) -> Dict[Tuple[str, ...], str]:
    """Toneless pinyin of every folk term and official name of two or more Chinese characters → the term."""
    _, table, _ = _folk_term_pattern(aliases)
    return {tuple(lazy_pinyin(term)): term for term in sorted(table, key=len)
            if len(term) >= 2 and _CHINESE_ONLY.fullmatch(term)}


def _homophones_corrected(question: str, aliases: Tuple[Tuple[str, str], ...]) -> str:
    """The text with a word that sounds like a folk term but is no word of its own written as that term.

    Farmers type policy words by sound: "土地沿包" for 延包, "良补" for 粮补. A stretch of the text that
    reads like a term in toneless pinyin, and that jieba does not know as a word ("两部" is one, so
    "两部手机" stays), is replaced by the term."""
    sounds = _folk_term_sounds(aliases)
    if not sounds:
        return question
    lengths = sorted({len(sound) for sound in sounds}, reverse=True)
    word_counts = _jieba().FREQ
    for run in _CHINESE_RUN.findall(question):
        reading = lazy_pinyin(run)
        if len(reading) != len(run):
            continue
        for length in lengths:
            for start in range(len(run) - length + 1):
                written = run[start:start + length]
                term = sounds.get(tuple(reading[start:start + length]))
                if term and term != written and term not in question and not word_counts.get(written):
                    question = question.replace(written, term)
    return question


def expand_folk_terms(question: str, aliases: AliasTable) -> Tuple[str, List[str]]:
    """Rewrite folk terms in a question into their official topics; returns the text and the topics reached.

    A term typed as a homophone ("沿包" for 延包) counts as the term."""
    text = normalise(question)
    pattern, table, official = _folk_term_pattern(tuple(aliases))
    if pattern is None:
        return text, []
    text = _homophones_corrected(text, tuple(aliases))
    reached: List[str] = []

    def replace(match: "re.Match[str]") -> str:
        word = match.group(0)
        topic = table[word]
        if word in official:
            return f" {word} "
        if topic not in reached:
            reached.append(topic)
        return f" {topic} "

    return pattern.sub(replace, text), reached


@lru_cache(maxsize=4096)
def _wording(
    title: str, questions: str, answer: str, aliases: Tuple[Tuple[str, str], ...], products: Tuple[Tuple[str, str], ...]
) -> Wording:
    """An article's title and question forms with folk terms and product names expanded, and its answer (cached)."""
    names = dict(products)
    forms = [with_product_names(expand_folk_terms(form, aliases)[0], names)
             for form in (title, *questions.split("\n")) if form.strip()]
    return Wording.of(forms, normalise(answer))


# --- common terms ------------------------------------------------------------------------------

# A term found in more than this share of the articles ("补贴", "怎么") says almost nothing about
# which article answers (bm25 gives it next to no weight), yet makes the engine rank nearly every
# article. Such terms are left out of the query once the knowledge base is large enough for
# that to matter; the rarest term always stays.
COMMON_TERM_SHARE = 0.25
PRUNE_MIN_ARTICLES = 500
# An idea found in at most this share of articles is specific enough to anchor the two-idea
# filter; a pair of ideas that are both more common ("什么" + "时候", always together) is not.
ANCHOR_SHARE = 0.1
# PostgreSQL's own statistics (pg_stats) are read at most this often per process.
_PG_STATS_SECONDS = 600.0
_pg_stats_cache: Dict[str, Tuple[float, float, Dict[str, float]]] = {}


def _sqlite_term_shares(session: Session, terms: List[str]) -> Dict[str, float]:
    connection = session.connection()
    if not connection.info.get("article_fts_terms"):
        # A per-connection view of the FTS5 vocabulary with each term's document count; temporary,
        # so it needs no migration and never appears in the schema.
        connection.execute(text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.article_fts_terms "
            f"USING fts5vocab(main, {SEARCH_INDEX_TABLE}, 'row')"
        ))
        connection.info["article_fts_terms"] = True
    total = connection.scalar(text(f"SELECT count(*) FROM {SEARCH_INDEX_TABLE}_docsize"))  # noqa: S608
    if not total or total < PRUNE_MIN_ARTICLES:
        return {}
    placeholders = ", ".join(f":t{index}" for index in range(len(terms)))
    rows = connection.execute(
        text(f"SELECT term, doc FROM temp.article_fts_terms WHERE term IN ({placeholders})"),  # noqa: S608
        {f"t{index}": term for index, term in enumerate(terms)},
    )
    return {term: docs / total for term, docs in rows}


def _postgresql_term_shares(session: Session) -> Dict[str, float]:
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    cached = _pg_stats_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < _PG_STATS_SECONDS:
        return cached[2] if cached[1] >= PRUNE_MIN_ARTICLES else {}
    # ANALYZE keeps the most common lexemes of a tsvector column with the share of rows holding
    # each: exactly the terms worth leaving out, at no cost per search.
    rows = session.execute(text(
        "SELECT e.elem, e.share, c.reltuples FROM pg_class c "
        "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
        "AND s.attname = 'document' "
        "LEFT JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) "
        "AS e(elem, share) ON true "
        "WHERE c.oid = to_regclass(:table)"
    ), {"table": SEARCH_INDEX_TABLE}).all()
    articles = float(rows[0][2]) if rows else 0.0
    shares = {elem: float(share) for elem, share, _ in rows if elem is not None}
    _pg_stats_cache[key] = (time.monotonic(), articles, shares)
    return shares if articles >= PRUNE_MIN_ARTICLES else {}


def term_shares(session: Session, terms: List[str]) -> Dict[str, float]:
    """The share of indexed articles holding each common term; empty while the knowledge base is small."""
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite_term_shares(session, terms)
    return _postgresql_term_shares(session)


# At most this many ideas of one question take part in the query. Farmers' questions have fewer
# than ten; a long message (a story ending in its question, or a flood of words) would otherwise
# make the two-idea filter quadratic: 300 ideas gave 45,000 pairs and megabytes of query text.
MAX_IDEAS = 16
# How many articles the database ranks for one question before the years are weighed in Python.
CANDIDATES = 12


def strongest_ideas(groups: List[List[str]], shares: Dict[str, float]) -> List[List[str]]:
    """At most MAX_IDEAS ideas, in their order in the question: the rarest, and among equals the last.

    The last ones because a long message puts its question at the end ("…玉米多少钱一斤").
    """
    if len(groups) <= MAX_IDEAS:
        return groups
    order = sorted(range(len(groups)), key=lambda index: (shares.get(groups[index][0], 0.0), -index))
    return [groups[index] for index in sorted(order[:MAX_IDEAS])]


def without_common_terms(groups: List[List[str]], shares: Dict[str, float]) -> List[List[str]]:
    """The ideas worth matching on: without the very common words and sub-words, and never none."""
    def rare(term: str) -> bool:
        return shares.get(term, 0.0) <= COMMON_TERM_SHARE

    kept = [[term for term in group if term == group[0] or rare(term)] for group in groups if rare(group[0])]
    if kept:
        return kept
    rarest = min(groups, key=lambda group: shares.get(group[0], 0.0))
    return [[rarest[0], *(term for term in rarest[1:] if rare(term))]]


# --- search ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleHit:
    """One search result, with everything an answer needs to cite its source."""

    article_id: int
    category: str
    topic: str
    title: str
    answer: str
    doc_number: Optional[str]
    source: str
    published_on: Optional[dt.date]
    effective_on: Optional[dt.date]
    # Name of the region the article is written for; None means national.
    region: Optional[str]
    confidence: str
    # The engine's relevance with the region weighting; comparable only within one search.
    score: float
    # Share of the question's search terms found in the article (0–1), comparable across
    # searches and backends: a low value means the best hit answers only part of the question.
    coverage: float = 1.0
    # The official topic a folk term in the question was rewritten to, when one was.
    via_folk_term: Optional[str] = None
    # Whether the question names the article's topic (by its name or a folk term for it): a hit
    # that shares only everyday words with the question ("每亩多少钱") may answer another question.
    topic_named: bool = False


def _region_chain_ids(session: Session, region: Union[str, Region, None]) -> List[int]:
    """Ids of the region chain of the farmer's region, without 全国 (national articles have no region)."""
    if region is None or region == "":
        return []
    names = catalog(session)
    found = names.region(region) if isinstance(region, str) else names.region_with_id(region.id)
    if found is None:
        return []
    return [scope.id for scope in names.region_chain(found) if scope.parent_id is not None]


def idea_pairs(groups: List[List[str]], shares: Dict[str, float]) -> List[Tuple[int, int]]:
    """Index pairs of ideas for the two-idea filter: every pair with at least one specific idea."""
    specific = [shares.get(group[0], 0.0) <= ANCHOR_SHARE for group in groups]
    return [(i, j) for i, j in combinations(range(len(groups)), 2) if specific[i] or specific[j]]


def _sqlite_query(groups: List[List[str]], pairs: Optional[List[Tuple[int, int]]]) -> str:
    # Terms are \w+ only, so quoting them is enough to keep FTS5 syntax out of a farmer's text.
    alternatives = ["(" + " OR ".join(f'"{term}"' for term in group) + ")" for group in groups]
    if not pairs:
        return " OR ".join(alternatives)
    return " OR ".join(f"({alternatives[i]} AND {alternatives[j]})" for i, j in pairs)


def _postgresql_branches(groups: List[List[str]], pairs: Optional[List[Tuple[int, int]]]) -> List[str]:
    """The filter as a union of conjunctions, each led by one idea: idea & (any idea it pairs with).

    Only each idea's main word filters (its sub-words appear wherever it does); PostgreSQL's row
    estimate for an OR of many lexemes is so high that it would scan the whole table instead.
    """
    if not pairs:
        return [" | ".join(group[0] for group in groups)]
    partners: Dict[int, List[int]] = {}
    for i, j in pairs:
        partners.setdefault(i, []).append(j)
    return [f"{groups[i][0]} & ({' | '.join(groups[j][0] for j in others)})" for i, others in partners.items()]


def _match_sqlite(
    session: Session, groups: List[List[str]], pairs: Optional[List[Tuple[int, int]]], chain: List[int],
    limit: int,
) -> List[Tuple[int, float]]:
    weights = ", ".join(str(weight) for weight in _FTS5_WEIGHTS)
    boost = _region_boost_sql(chain)
    statement = text(
        f"SELECT a.id, -bm25({SEARCH_INDEX_TABLE}, {weights}) * {boost} AS relevance "  # noqa: S608
        f"FROM {SEARCH_INDEX_TABLE} JOIN article a ON a.id = {SEARCH_INDEX_TABLE}.rowid "
        f"WHERE {SEARCH_INDEX_TABLE} MATCH :match AND a.status = 'published' AND {_region_filter_sql(chain)} "
        "ORDER BY relevance DESC, a.id LIMIT :limit"
    )
    parameters = {"match": _sqlite_query(groups, pairs), "limit": limit}
    return [(row[0], float(row[1])) for row in session.execute(statement, parameters)]


def _match_postgresql(
    session: Session, groups: List[List[str]], pairs: Optional[List[Tuple[int, int]]], chain: List[int],
    limit: int,
) -> List[Tuple[int, float]]:
    # The candidates come from one GIN lookup per branch (each led by a single idea, so GIN's fast
    # scan skips through the common partner words); MATERIALIZED keeps the planner from folding
    # them into one broad OR, for which it guessed thousands of rows and scanned both tables.
    # Candidates are then ranked by primary key. The rank always weighs every term.
    branches = _postgresql_branches(groups, pairs)
    candidates = " UNION ".join(
        f"SELECT article_id FROM {SEARCH_INDEX_TABLE} WHERE document @@ to_tsquery('simple', :b{index})"  # noqa: S608
        for index in range(len(branches))
    )
    boost = _region_boost_sql(chain)
    statement = text(
        f"WITH candidate AS MATERIALIZED ({candidates}) "  # noqa: S608
        f"SELECT a.id, ts_rank(f.document, to_tsquery('simple', :rank)) * {boost} AS relevance "
        f"FROM candidate c JOIN {SEARCH_INDEX_TABLE} f ON f.article_id = c.article_id "
        "JOIN article a ON a.id = c.article_id "
        f"WHERE a.status = 'published' AND {_region_filter_sql(chain)} ORDER BY relevance DESC, a.id LIMIT :limit"
    )
    parameters: Dict[str, object] = {f"b{index}": branch for index, branch in enumerate(branches)}
    parameters.update(rank=" | ".join(term for group in groups for term in group), limit=limit)
    return [(row[0], float(row[1])) for row in session.execute(statement, parameters)]


def _region_boost_sql(chain: List[int]) -> str:
    # Ids come from our own Region rows (integers), so inlining them is safe and keeps one plan.
    if not chain:
        return f"(CASE WHEN a.region_id IS NULL THEN {REGION_BOOST} ELSE 1.0 END)"
    return f"(CASE WHEN a.region_id IN ({', '.join(str(int(i)) for i in chain)}) THEN {REGION_BOOST} ELSE 1.0 END)"


def _region_filter_sql(chain: List[int]) -> str:
    # A farmer with a known region sees national articles and those of their own region chain,
    # never another province's rules; without a region every article is a candidate.
    if not chain:
        return "1 = 1"
    return f"(a.region_id IS NULL OR a.region_id IN ({', '.join(str(int(i)) for i in chain)}))"


def search_articles(
    session: Session,
    question: str,
    region: Union[str, Region, None] = None,
    limit: int = 5,
    aliases: Optional[AliasTable] = None,
    today: Optional[dt.date] = None,
) -> List[ArticleHit]:
    """Published articles that answer `question`, best first; the farmer's own region's articles rank first.

    Among the yearly articles of one fact, the one for the year the question names (relative to
    `today`, default the current date) comes first, and the newest applicable one when it names none.
    `aliases` may pass a cached `topic_aliases(session)` to save one query per search.
    """
    if aliases is None:
        aliases = topic_aliases(session)
    rewritten, reached = expand_folk_terms(question, aliases)
    # Only the end of a very long message is weighed (its question is there), which also bounds the
    # vocabulary lookup below.
    product_key = catalog(session).product_aliases()
    products = dict(product_key)
    groups = concepts(rewritten, products)[-4 * MAX_IDEAS:]
    terms = list(dict.fromkeys(term for group in groups for term in group))
    if not terms:
        return []
    chain = _region_chain_ids(session, region)
    shares = term_shares(session, terms)
    kept = strongest_ideas(without_common_terms(groups, shares), shares)
    match = _match_sqlite if session.get_bind().dialect.name == "sqlite" else _match_postgresql
    # Like a search engine's "minimum should match": articles that share two of the question's
    # ideas (one of them specific) come first, and are found cheaply even when an idea (a popular
    # topic) fills a fifth of the knowledge base. Only when no article shares two ideas are
    # single-idea matches ranked, and then only on the specific ideas when there are any: an
    # article that merely shares "保险" with the question would not answer it anyway.
    pairs = idea_pairs(kept, shares)
    # More candidates than asked for, so that the other years' articles of a fact and the
    # articles of the asked aspect are there to be reordered; still a bounded LIMIT.
    pool = max(limit, CANDIDATES)
    ranked = match(session, kept, pairs, chain, pool) if pairs else []
    if len(ranked) < pool:
        # Too few articles share two ideas (the farmer's words were cut differently from the
        # article's): the single-idea matches fill the pool, below every two-idea match, so that
        # the wording can still find the article among them.
        specific = [group for group in kept if shares.get(group[0], 0.0) <= ANCHOR_SHARE]
        found = {article_id for article_id, _ in ranked}
        more = [(article_id, relevance) for article_id, relevance in match(session, specific or kept, None, chain, pool)
                if article_id not in found]
        if ranked and more:
            scale = min(relevance for _, relevance in ranked) / max(max(relevance for _, relevance in more), 1e-9)
            more = [(article_id, relevance * scale * 0.99) for article_id, relevance in more]
        ranked = (ranked + more)[:pool]
    if not ranked:
        return []
    articles = {
        article.id: article
        for article in session.scalars(
            select(Article).where(Article.id.in_([i for i, _ in ranked])).options(joinedload(Article.region))
        )
    }
    candidates = [articles[article_id] for article_id, _ in ranked]
    alias_key = tuple(aliases)
    wording = wording_scores(with_product_names(rewritten, products), [
        _wording(article.title, article.questions or "", article.answer, alias_key, product_key)
        for article in candidates
    ])
    scores = blended([relevance for _, relevance in ranked], wording)
    order = sorted(zip(candidates, scores, strict=True), key=lambda pair: -pair[1])
    hits = [
        hit_from_article(article, score=round(score, 6),
                         via_folk_term=article.topic if article.topic in reached else None)
        for article, score in order
    ]
    best = prefer_asked_year(hits, plain(question), today or local_today())[:limit]
    return [dataclasses.replace(hit, coverage=_coverage(articles[hit.article_id], terms),
                                topic_named=hit.topic in rewritten) for hit in best]


def _coverage(article: Article, terms: List[str]) -> float:
    """The share of the question's search terms found in the article."""
    # Substring tests instead of segmenting the article again: re-running jieba over the
    # answers would cost more than the search itself.
    body = unicodedata.normalize("NFKC", " ".join((article.title, article.topic, article.questions,
                                                    article.answer))).lower()
    return round(sum(1 for term in terms if term in body) / len(terms), 3)


def hit_from_article(
    article: Article, score: float = 1.0, coverage: float = 1.0, via_folk_term: Optional[str] = None
) -> ArticleHit:
    """An article in the shape search returns it (for callers that already know which article they want)."""
    return ArticleHit(
        article_id=article.id,
        category=article.category,
        topic=article.topic,
        title=article.title,
        answer=article.answer,
        doc_number=article.doc_number,
        source=article.source,
        published_on=article.published_on,
        effective_on=article.effective_on,
        region=article.region.name if article.region is not None else None,
        confidence=article.confidence,
        score=score,
        coverage=coverage,
        via_folk_term=via_folk_term,
    )


def published_article(session: Session, article_id: int) -> Optional[ArticleHit]:
    """A published article by id, as a hit (e.g. for a "不是这个？" button); None if missing or a draft."""
    article = session.get(Article, article_id)
    if article is None or article.status != "published":
        return None
    return hit_from_article(article)


def related_articles(
    session: Session, best: ArticleHit, hits: Sequence[ArticleHit], limit: int = 2,
    region: Union[str, Region, None] = None,
) -> List[ArticleHit]:
    """The "不是这个？" alternatives to `best`: related topics only, never another shelf.

    Other hits of the same topic come first, then hits of the same category (pension, medical,
    policy), in the search's order; an article that merely shared a word with the question from
    another category (小麦最低收购价 under a medical answer) is never offered. When the search
    found fewer, the topic's other published articles fill in (the newest first), national or
    of the farmer's `region` as in search.
    """
    # Another year's article of the same fact ("2024年小麦最低收购价" under the 2025 one) is the same
    # answer for another year, not another topic: the farmer asks for a year by naming it.
    fact = fact_of(best.title)
    others = [hit for hit in hits if hit.article_id != best.article_id and fact_of(hit.title) != fact]
    same_topic = [hit for hit in others if hit.topic == best.topic]
    same_category = [hit for hit in others if hit.topic != best.topic and hit.category == best.category]
    chosen = (same_topic + same_category)[:limit]
    if len(chosen) < limit:
        taken = {best.article_id, *(hit.article_id for hit in chosen)}
        chain = _region_chain_ids(session, region)
        local = Article.region_id.is_(None) | Article.region_id.in_(chain) if chain else true()
        more = session.scalars(
            select(Article)
            .where(Article.topic == best.topic, Article.status == "published", Article.id.notin_(taken), local)
            .options(joinedload(Article.region))
            .order_by(Article.published_on.desc().nulls_last(), Article.id.desc())
            .limit(limit - len(chosen) + 4)
        )
        chosen.extend(hit_from_article(article, score=0.0, coverage=0.0) for article in more
                      if fact_of(article.title) != fact)
        chosen = chosen[:limit]
    return chosen
