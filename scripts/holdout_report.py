"""Score a trained model on the held-out NLU sentences as the bot sees them; fail under the floors.

Each sentence is parsed by the whole pipeline, so the intent is the one the bot acts on (a
FallbackClassifier's nlu_fallback counts as wrong) and the products are the values the bot ends up
with: every extractor's entities merged and mapped through the synonyms. Rasa's own `rasa test nlu`
scores each extractor's spans separately, before synonyms, which is not what a farmer gets.

    python -m scripts.holdout_report [--model models/xiangxin.tar.gz] [--nlu tests/nlu_holdout.yml]

Exits 1 when held-out intent accuracy or product F1 falls under FLOORS (`make holdout` fails the build).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
FLOORS = {"intent_accuracy": 0.95, "product_f1": 0.95}


@dataclass
class HeldOutScores:
    """Intent accuracy and product F1 over the held-out sentences, with the sentences that missed."""

    sentences: int
    intent_accuracy: float
    product_precision: float
    product_recall: float
    product_f1: float
    wrong_intents: List[Dict[str, str]] = field(default_factory=list)
    wrong_products: List[Dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class ExpectedSentence:
    """A held-out sentence, its intent and its product values (normalised, after synonyms)."""

    text: str
    intent: str
    products: FrozenSet[str]


def expected_sentences(nlu_file: Path) -> List[ExpectedSentence]:
    """The held-out sentences with their intent and product values, normalised and mapped as training maps them."""
    from rasa.shared.nlu.training_data.loading import load_data

    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from nlu.text_normalizer import normalise

    synonyms = load_data(str(NLU_DATA)).entity_synonyms

    def canonical(value: str) -> str:
        simplified = normalise(value).text
        return synonyms.get(simplified, synonyms.get(value, simplified))

    return [
        ExpectedSentence(example.get("text"), example.get("intent"),
                  frozenset(canonical(str(entity["value"])) for entity in example.get("entities") or []
                            if entity["entity"] == "product"))
        for example in load_data(str(nlu_file)).intent_examples
    ]


def _parse_all(model: Path, texts: List[str]) -> List[Dict]:
    """Parse results of the full pipeline for each text, the model loaded in this process."""
    from rasa.core.agent import Agent

    from rasa_extensions import fast_model_load

    fast_model_load.install()  # the same predictions, without Rasa's throwaway training step at load (a minute here)
    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)  # the pipeline's jieba dictionary path is relative to the project
    try:
        agent = Agent.load(str(model))

        async def parse() -> List[Dict]:
            return [await agent.parse_message(text) for text in texts]

        return asyncio.run(parse())
    finally:
        os.chdir(cwd)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def held_out_scores(model: Path, nlu_file: Path) -> HeldOutScores:
    """Parse every sentence of `nlu_file` with `model` and score intents and product values."""
    expected = expected_sentences(nlu_file)
    return score_parses(expected, _parse_all(model, [sentence.text for sentence in expected]))


def score_parses(expected: List[ExpectedSentence], parses: List[Dict]) -> HeldOutScores:
    """Intent accuracy and product F1 of Rasa parse results against the expected sentences."""
    right_intents, true_positives, predicted, wanted = 0, 0, 0, 0
    scores = HeldOutScores(len(expected), 0.0, 0.0, 0.0, 0.0)
    for sentence, parse in zip(expected, parses, strict=True):
        intent = (parse.get("intent") or {}).get("name")
        if intent == sentence.intent:
            right_intents += 1
        else:
            scores.wrong_intents.append({"text": sentence.text, "expected": sentence.intent, "got": str(intent)})
        products = frozenset(str(entity["value"]) for entity in parse.get("entities", [])
                             if entity["entity"] == "product")
        true_positives += len(products & sentence.products)
        predicted += len(products)
        wanted += len(sentence.products)
        if products != sentence.products:
            scores.wrong_products.append({"text": sentence.text, "expected": sorted(sentence.products),
                                          "got": sorted(products)})
    # No product asked and none found is a perfect score, not a division by zero.
    scores.intent_accuracy = round(right_intents / len(expected), 4) if expected else 0.0
    precision = true_positives / predicted if predicted else float(not wanted)
    recall = true_positives / wanted if wanted else float(not predicted)
    scores.product_precision, scores.product_recall = round(precision, 4), round(recall, 4)
    scores.product_f1 = round(_f1(precision, recall), 4)
    return scores


def below_floors(scores: HeldOutScores) -> List[Tuple[str, float, float]]:
    """(measure, value, floor) for each measure under its floor."""
    return [(name, getattr(scores, name), floor) for name, floor in FLOORS.items() if getattr(scores, name) < floor]


def main(argv: List[str]) -> int:
    """Print the held-out scores and the misses; 1 when a floor is not met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "xiangxin.tar.gz")
    parser.add_argument("--nlu", type=Path, default=PROJECT_ROOT / "tests" / "nlu_holdout.yml")
    parser.add_argument("--out", type=Path, help="also write the scores and misses to this JSON file")
    args = parser.parse_args(argv)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's structlog logs every parse at debug level otherwise
    scores = held_out_scores(args.model, args.nlu)
    for miss in scores.wrong_intents:
        print(f"intent  {miss['text']}: expected {miss['expected']}, got {miss['got']}")
    for miss in scores.wrong_products:
        print(f"product {miss['text']}: expected {miss['expected']}, got {miss['got']}")
    print(f"Held-out NLU ({scores.sentences} sentences): intent accuracy {scores.intent_accuracy:.2%}; "
          f"product F1 {scores.product_f1:.2%} (precision {scores.product_precision:.2%}, "
          f"recall {scores.product_recall:.2%}), after synonyms")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(asdict(scores), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    failures = below_floors(scores)
    for name, value, floor in failures:
        print(f"FAIL: held-out {name.replace('_', ' ')} {value:.2%} is under the floor of {floor:.0%}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
