"""The training-data export leaves out what data/nlu/ already has, whatever its annotation or layout."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from console.nlu_export import annotate, export_corrections, known_examples
from settings import PROJECT_ROOT

NLU_FILE = """version: "3.1"
nlu:
  - intent: ask_price
    examples: |
      - [玉米](product)多少钱一斤
      - [苞谷]{"entity": "product", "value": "玉米"}啥价
  - intent: greet
    examples:
      - text: |
          你好啊
        metadata:
          sentiment: neutral
  - synonym: 玉米
    examples: |
      - 棒子
"""


def _nlu_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "nlu" / "topic"
    folder.mkdir(parents=True)
    (folder / "prices.yml").write_text(NLU_FILE, encoding="utf-8")
    (tmp_path / "nlu" / "extra.yaml").write_text(
        'version: "3.1"\nnlu:\n  - intent: thank\n    examples: |\n      - 多谢了\n', encoding="utf-8")
    return tmp_path / "nlu"


def test_known_examples_read_every_layout_without_annotations(tmp_path) -> None:
    assert known_examples(_nlu_dir(tmp_path)) == {"玉米多少钱一斤", "苞谷啥价", "你好啊", "多谢了"}


def test_corrections_already_in_the_training_data_are_skipped(tmp_path) -> None:
    corrections = [
        ("ask_price", "玉米多少钱一斤"),  # known, annotated differently in the data
        ("ask_price", "[苞谷](product)啥价"),  # known, with a synonym there
        ("greet", "你好啊"),  # known from the list-of-texts layout
        ("thank", "多谢了"),  # known from a .yaml file in the top folder
        ("ask_price", "[高粱](product)咋卖"),  # new
        ("ask_price", "  [高粱](product)咋卖 "),  # the same new example again, with stray spaces
        ("chitchat", "棒子"),  # a synonym's entry is not an intent example: new
    ]
    export = export_corrections(corrections, known_examples(_nlu_dir(tmp_path)))
    assert export.by_intent == {"ask_price": ["[高粱](product)咋卖"], "chitchat": ["棒子"]}
    assert export.examples == 2
    assert sorted(export.already_known) == ["你好啊", "多谢了", "玉米多少钱一斤", "苞谷啥价"]
    data = yaml.safe_load(export.yaml_text)
    assert data["nlu"] == [{"intent": "ask_price", "examples": "- [高粱](product)咋卖\n"},
                           {"intent": "chitchat", "examples": "- 棒子\n"}]


def test_every_example_of_the_real_training_data_is_skipped() -> None:
    """Each example of data/nlu/, handed back as a reviewer's correction, stays out of the export."""
    nlu_dir = PROJECT_ROOT / "data" / "nlu"
    known = known_examples(nlu_dir)
    existing = []
    for path in nlu_dir.rglob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" in item:
                existing += [(item["intent"], line.strip()[2:]) for line in item["examples"].splitlines()
                             if line.strip().startswith("- ")]
    assert len(existing) > 100
    export = export_corrections(existing, known)
    assert export.examples == 0 and export.by_intent == {}
    assert len(export.already_known) == len(existing)


def _entity(name, start, end, value):
    return {"entity": name, "start": start, "end": end, "value": value}


@pytest.mark.parametrize(
    ("text", "entities", "annotated"),
    [
        # The old model's halves of "1块2" become the one amount the farmer wrote.
        ("玉米涨到1块2提醒我", [_entity("product", 0, 2, "玉米"), _entity("amount", 4, 5, "1"),
                              _entity("amount", 6, 7, "2")], "[玉米](product)涨到[1块2](amount)提醒我"),
        # Positions in the normalised text ("1.3块") are found again in the farmer's words by value.
        ("苞米到一块三告诉我", [_entity("amount", 3, 7, "1.3块")], "苞米到[一块三](amount)告诉我"),
        ("一年一千二 交二十年", [_entity("amount", 2, 6, "1200")], "一年[一千二](amount) 交二十年"),
        ("交500交15年", [_entity("amount", 1, 4, "500"), _entity("years", 5, 7, "15")],
         "交[500](amount)交[15](years)年"),
    ],
)
def test_amounts_are_annotated_whole_as_written(text, entities, annotated) -> None:
    assert annotate(text, entities) == annotated
