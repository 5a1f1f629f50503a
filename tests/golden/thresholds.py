"""The floors the golden scores must not fall under (tests/golden/thresholds.yml).

Each floor is a measured score rounded down to a whole percent. Work that raises a score raises
its floor in the same commit, so the suites keep what was won:

    python -m tests.golden.thresholds var/golden/conversations_report.json bench/reports/article_bench.json

raises every floor to what those reports measured (never lowers one) and rewrites the file.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.yml"
_HEADER = """\
# Floors of the golden scores. Articles: the measured score rounded down to a whole percent. Conversations
# (since 2026-11-30): the measured score less one conversation per kind and five overall, rounded down,
# because CI retrains the model on another machine and a borderline message may classify differently
# there. The suites fail only when a score falls under its floor. Raise them with
#   python -m tests.golden.thresholds var/golden/conversations_report.json bench/reports/article_bench.json
# after a run (tests/golden/BASELINE.md says how each score is measured); never lower one silently.
#
# articles: tests/golden/articles.yml against knowledge.articles.search_articles, top-1 and top-3.
# articles_dev: the same for tests/golden/articles_dev.yml, the set search is tuned on.
# conversations: tests/golden/conversations.yml through Rasa's REST channel, right conversations
# overall and per kind.
"""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping.

    Plain YAML keeps the last of two equal keys, so a floor pasted twice would silently replace the
    first one (it once turned article_suggestions 0.71 into 1.0 and failed CI)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError(f"{self.name}: the key {key!r} is given twice (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_thresholds(path: Path = THRESHOLDS_PATH) -> Dict[str, Any]:
    """The floors by set: {"articles": {"top1": …, "top3": …}, "conversations": {"overall": …, "kinds": {…}}}."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)


def floor_of(score: float) -> float:
    """A score rounded down to a whole percent: the floor to keep for it."""
    return math.floor(round(score * 100, 6)) / 100


def shortfalls(scores: Dict[str, float], floors: Dict[str, float]) -> List[str]:
    """Every score under its floor, as "name 0.6100 < 0.64"; a floor without a score is a shortfall too."""
    found = []
    for name, floor in floors.items():
        score = scores.get(name)
        if score is None or score < floor:
            found.append(f"{name} {'missing' if score is None else f'{score:.4f}'} < {floor:.2f}")
    return found


def raised(floors: Dict[str, float], scores: Dict[str, float]) -> Dict[str, float]:
    """The floors raised to the scores (rounded down), never lowered; a score without a floor gets one."""
    names = list(floors) + [name for name in scores if name not in floors]
    return {name: max(floors.get(name, 0.0), floor_of(scores.get(name, 0.0))) for name in names}


def raise_from_reports(thresholds: Dict[str, Any], reports: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The thresholds raised by a conversation report (run_conversations) and/or an article report (article_bench)."""
    result = json.loads(json.dumps(thresholds or {}))
    for report in reports:
        if "report" in report:  # tests/golden/run_conversations.write_json
            figures = report["report"]
            section = result.setdefault("conversations", {"overall": 0.0, "kinds": {}})
            section["overall"] = raised({"overall": section.get("overall", 0.0)},
                                        {"overall": figures["overall"]["score"]})["overall"]
            section["kinds"] = raised(section.get("kinds") or {},
                                      {kind: f["score"] for kind, f in figures["kinds"].items()})
        else:  # bench/article_bench.main
            result["articles"] = raised(result.get("articles") or {}, {"top1": report["top1"], "top3": report["top3"]})
            if "dev" in report:
                dev = report["dev"]
                result["articles_dev"] = raised(result.get("articles_dev") or {},
                                                {"top1": dev["top1"], "top3": dev["top3"]})
    return result


def write_thresholds(thresholds: Dict[str, Any], path: Path = THRESHOLDS_PATH) -> None:
    """Write the floors with the explanatory header."""
    body = yaml.safe_dump(thresholds, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path.write_text(_HEADER + "\n" + body, encoding="utf-8")


def main(argv: List[str]) -> int:
    """Raise the floors from the report files given and print them."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    reports = [json.loads(Path(name).read_text(encoding="utf-8")) for name in argv]
    reports = [report.get("benchmarks", {}).get("article_bench", report) for report in reports]
    thresholds = raise_from_reports(load_thresholds() if THRESHOLDS_PATH.exists() else {}, reports)
    write_thresholds(thresholds)
    print(THRESHOLDS_PATH.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
