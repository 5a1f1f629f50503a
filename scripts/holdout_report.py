"""Print the held-out NLU test's intent accuracy and entity F1 from `rasa test nlu` output."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(results_dir: str) -> int:
    """Summarise intent_report.json and the entity reports in `results_dir`."""
    directory = Path(results_dir)
    intents = json.loads((directory / "intent_report.json").read_text(encoding="utf-8"))
    summary = {"intent_accuracy": round(intents["accuracy"], 4), "entity_f1": {}}
    # Rasa scores each entity extractor on its own; both are shown rather than one picked.
    for report in sorted(directory.glob("*_report.json")):
        extractor = report.stem.replace("_report", "")
        if extractor in ("intent", "response_selection"):
            continue
        for entity, scores in json.loads(report.read_text(encoding="utf-8")).items():
            if isinstance(scores, dict) and "f1-score" in scores and not entity.endswith(" avg"):
                summary["entity_f1"][f"{entity} ({extractor})"] = round(scores["f1-score"], 4)
    print(f"Held-out NLU: intent accuracy {summary['intent_accuracy']:.2%}; entity F1: "
          + ", ".join(f"{name} {f1:.2%}" for name, f1 in summary["entity_f1"].items()))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
