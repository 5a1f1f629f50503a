"""All of China's places: the national divisions in the region table, their aliases, the NLU's place words,
names several places share, and shared locations placed in their county (SQLite and PostgreSQL)."""
from __future__ import annotations

import jieba
from sqlalchemy import func, select

from knowledge import migrate
from knowledge.catalog.dictionary import JIEBA_DIR, read_vocabulary, render_files
from knowledge.catalog.divisions import common_words, divisions, load_divisions, short_form
from knowledge.catalog.snapshot import catalog
from knowledge.models import Market, Product, ProductAlias, Region
from knowledge.seed import seed


def test_every_province_city_and_county_is_loaded_with_its_code_and_seat(kb):
    expected = {"province": 0, "city": 0, "county": 0}
    for division in divisions():
        expected[division.level] += 1
    # The data set as of 2025-12-31: 34 provinces (with 台湾, 香港, 澳门), over 330 cities, over 2,700 counties.
    assert expected["province"] == 34 and expected["city"] >= 330 and expected["county"] >= 2700
    with kb.scope() as session:
        counts = dict(session.execute(
            select(Region.level, func.count()).where(Region.code.isnot(None)).group_by(Region.level)).all())
        assert counts == expected
        missing_seat = session.scalar(select(func.count()).where(
            Region.code.isnot(None), (Region.latitude.is_(None)) | (Region.longitude.is_(None))))
        assert missing_seat == 0
        gongyi = session.scalars(select(Region).where(Region.name == "巩义市")).one()
        assert [gongyi.parent.name, gongyi.parent.parent.name] == ["郑州市", "河南省"]
        # A municipality's districts sit directly under it, as the seed always had them.
        fengtai = session.scalars(select(Region).where(Region.name == "丰台区")).one()
        assert fengtai.parent.name == "北京市" and fengtai.parent.level == "province"


def test_loading_again_adds_nothing(kb):
    with kb.scope() as session:
        before = session.scalar(select(func.count()).select_from(Region))
        report = load_divisions(session)
        assert (report.added, report.adopted, report.aliases) == (0, 0, 0)
        again = seed(session)
        assert (again.regions, again.divisions) == (0, 0)
        assert session.scalar(select(func.count()).select_from(Region)) == before


def test_a_region_made_before_the_load_is_adopted_with_its_id_and_markets(empty_db):
    migrate.upgrade(empty_db.engine)
    with empty_db.scope() as session:
        root = Region(name="全国", level="country")
        shandong = Region(name="山东省", short_name="山东", level="province", parent=root)
        # Where an older seed put it: a "city" directly under the province.
        shouguang = Region(name="寿光市", short_name="寿光", level="city", parent=shandong)
        session.add(Market(name="寿光蔬菜批发市场", kind="批发市场", region=shouguang))
        session.flush()
        old_id = shouguang.id
    with empty_db.scope() as session:
        seed(session)
    with empty_db.scope() as session:
        found = session.scalars(select(Region).where(Region.name == "寿光市")).all()
        assert [(region.id, region.level, region.parent.name, region.code) for region in found] == [
            (old_id, "county", "潍坊市", "370783000000")]
        market = session.scalars(select(Market).where(Market.name == "寿光蔬菜批发市场")).one()
        assert market.region_id == old_id
        assert session.scalar(select(func.count()).where(Region.name == "山东省")) == 1


def test_short_forms():
    assert short_form("巩义市", "county") == "巩义"
    assert short_form("大理白族自治州", "city") == "大理"
    assert short_form("黔南布依族苗族自治州", "city") == "黔南"
    assert short_form("本溪满族自治县", "county") == "本溪"
    assert short_form("广西壮族自治区", "province") == "广西"
    assert short_form("叶县", "county") is None  # 叶 alone is a leaf, not a place
    assert short_form("城区", "county") is None


def test_the_nlu_place_words_are_never_a_single_character_a_product_or_a_common_word(kb):
    with kb.scope() as session:
        vocabulary = read_vocabulary(session)
        products = set(session.scalars(select(Product.name))) | set(session.scalars(select(ProductAlias.alias)))
        aliases = {alias for region in session.scalars(select(Region)) for alias in
                   [region.short_name, *(a.alias for a in region.aliases)] if alias}
    places = set(vocabulary.regions)
    assert not {word for word in places if len(word) < 2}
    assert not places & products
    assert not places & common_words()
    assert not {alias for alias in aliases if len(alias) < 2}
    assert "叶县" in places and "叶" not in places
    assert "长寿区" in places and "长寿" not in places  # 长寿补贴 is an allowance, not 重庆市长寿区
    for county in ("巩义", "鹤山", "商丘", "咸阳", "大理", "潍坊", "藁城"):
        assert county in places, county
    assert "巩义" in vocabulary.regions
    jieba_file = render_files(vocabulary)[JIEBA_DIR / "userdict.txt"]
    assert "巩义 " in jieba_file and "\n叶 " not in jieba_file


def test_jieba_with_the_generated_dictionary_keeps_a_county_one_word(kb, tmp_path):
    with kb.scope() as session:
        content = render_files(read_vocabulary(session))[JIEBA_DIR / "userdict.txt"]
    path = tmp_path / "userdict.txt"
    path.write_text(content, encoding="utf-8")
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(path))
    assert tokenizer.lcut("巩义小麦多少钱一斤")[:2] == ["巩义", "小麦"]
    assert "叶县" in tokenizer.lcut("叶县玉米多少钱")
    assert "叶" not in tokenizer.lcut("叶县玉米多少钱")


def test_names_several_places_share_are_listed_and_clear_names_are_not(kb):
    with kb.scope() as session:
        names = catalog(session)
        chaoyang = names.regions_named("朝阳")
        labels = {names.label(region) for region in chaoyang}
        assert {"北京市朝阳区", "吉林省长春市朝阳区", "辽宁省朝阳市", "辽宁省朝阳市朝阳县"} <= labels
        assert len(names.regions_named("鼓楼")) == 4
        assert len(names.regions_named("鹤山")) == 2
        # A label names one place; so does a full name typed exactly.
        assert [r.name for r in names.regions_named("吉林省长春市朝阳区")] == ["朝阳区"]
        assert [r.name for r in names.regions_named("大理市")] == ["大理市"]
        # Places inside one another: the widest. A province over anything else so called.
        assert [r.name for r in names.regions_named("大理")] == ["大理白族自治州"]
        assert [r.name for r in names.regions_named("海南")] == ["海南省"]
        assert [r.name for r in names.regions_named("吉林")] == ["吉林省"]
        for county, path in [("巩义", ["巩义市", "郑州市", "河南省"]), ("商丘", ["商丘市", "河南省"]),
                             ("潍坊", ["潍坊市", "山东省"]), ("咸阳", ["咸阳市", "陕西省"])]:
            [found] = names.regions_named(county)
            assert [scope.name for scope in names.region_chain(found)][:-1] == path


def test_a_shared_location_is_placed_in_its_county(kb):
    with kb.scope() as session:
        names = catalog(session)
        # A point in 巩义 (the 杜甫故里 area) and one in 藁城's town centre.
        assert names.nearest_county(34.760, 113.010).name == "巩义市"
        assert names.nearest_county(38.025, 114.845).name == "藁城区"
        assert names.nearest_county(25.60, 100.25).name == "大理市"


def test_a_township_an_officer_adds_is_resolved_in_knowledge_but_not_given_to_the_nlu(kb):
    with kb.scope() as session:
        gaocheng = session.scalars(select(Region).where(Region.name == "藁城区")).one()
        session.add(Region(name="岗上镇", level="township", parent=gaocheng))
    with kb.scope() as session:
        [township] = catalog(session).regions_named("岗上")
        assert [scope.name for scope in catalog(session).region_chain(township)][:2] == ["岗上镇", "藁城区"]
        places = set(read_vocabulary(session).regions)
        assert "岗上镇" not in places and "岗上" not in places
