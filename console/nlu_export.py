"""Reviewers' corrections as Rasa NLU training data: inline entity annotation in and out, and
a YAML export for data/nlu/ that leaves out examples the training data already has.

Parsing uses Rasa's own entities_parser, so what the console accepts is exactly what
`rasa train` reads.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml
from rasa.shared.nlu.training_data.entities_parser import find_entities_in_training_example, replace_entities

from knowledge.catalog.amounts import number_spans, parse_money
from knowledge.masking import mask_personal_data

logger = logging.getLogger(__name__)


class AnnotationError(ValueError):
    """A corrected annotation cannot be used; the message is plain Chinese."""


@dataclass(frozen=True)
class DomainNames:
    """The intents and entities of the assistant's domain.yml."""

    intents: Tuple[str, ...]
    entities: Tuple[str, ...]


def load_domain_names(path: Path) -> DomainNames:
    """Intent and entity names from domain.yml (entries may be plain names or one-key mappings)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def names(items: Any) -> Tuple[str, ...]:
        found = []
        for item in items or []:
            found.append(next(iter(item)) if isinstance(item, dict) else str(item))
        return tuple(found)

    return DomainNames(names(data.get("intents")), names(data.get("entities")))


def _whole_amount(text: str, start: int, end: int, value: Any) -> Optional[Tuple[int, int]]:
    """Where the amount an `amount` entity names is written in the farmer's text, whole ("1块2", not "1" and "2").

    The model's positions are in the normalised text ("1.2块" for "一块二"), so the amount is found by its value
    first, then by position.
    """
    numbers = number_spans(text)
    wanted = parse_money(str(value or ""))
    same_value = [number for number in numbers if wanted is not None and number.value == wanted]
    if same_value:
        nearest = min(same_value, key=lambda number: abs(number.start - start))
        return nearest.start, nearest.end
    overlapping = next((number for number in numbers if number.start < end and start < number.end), None)
    return (overlapping.start, overlapping.end) if overlapping else None


def annotate(text: str, entities: Sequence[Dict[str, Any]]) -> str:
    """The message in Rasa's inline form: [玉米](product)多少钱, or [苞谷]{"entity": …, "value": "玉米"} (synonyms).

    An amount is annotated whole as the farmer wrote it: [一块二](amount), never [1](amount)块[2](amount).
    """
    spans: List[Tuple[int, int, str, Any]] = []
    for entity in entities:
        start, end, name = entity.get("start"), entity.get("end"), entity.get("entity")
        if not isinstance(start, int) or not isinstance(end, int) or not name or not 0 <= start < end <= len(text):
            continue  # entities from button payloads carry no position in the text
        value = entity.get("value")
        if name == "amount":
            whole = _whole_amount(text, start, end, value)
            if whole is not None:
                start, end, value = whole[0], whole[1], None
            if any(span[:3] == (start, end, name) for span in spans):
                continue  # the two halves of "1块2" are one amount
        spans.append((start, end, str(name), value))
    spans.sort()
    parts, cursor = [], 0
    for start, end, name, value in spans:
        if start < cursor:
            continue  # overlapping extractors: keep the first
        covered = text[start:end]
        parts.append(text[cursor:start])
        if value is None or str(value) == covered:
            parts.append(f"[{covered}]({name})")
        else:
            parts.append(f"[{covered}]" + json.dumps({"entity": name, "value": str(value)}, ensure_ascii=False))
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)


def check_annotation(annotated: str, original: str, entity_names: Iterable[str]) -> List[Dict[str, Any]]:
    """The entities of a corrected annotation; refuses one that changes the farmer's words or names unknown entities.

    The farmer's words may be given as written or with their personal numbers masked.
    """
    annotated = " ".join((annotated or "").split())
    try:
        entities = find_entities_in_training_example(annotated)
        plain = replace_entities(annotated)
    except Exception as error:  # Rasa raises several kinds for malformed {"entity": …} blocks
        raise AnnotationError(f"标注格式不对：{error}") from error
    # The form shows the message with phone and 身份证 numbers masked, so the masked words are accepted too
    # (and are what the export writes anyway).
    if plain not in {" ".join(original.split()), " ".join(mask_personal_data(original).split())}:
        raise AnnotationError("标注去掉 [ ] 和 ( ) 后必须和农户的原话一字不差")
    known = set(entity_names)
    unknown = sorted({entity["entity"] for entity in entities} - known)
    if unknown:
        raise AnnotationError(f"不认识的实体：{'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
    return entities


def _plain(example: str) -> str:
    try:
        return " ".join(replace_entities(example).split())
    except Exception:  # a malformed example in the data: compare it as written
        return " ".join(example.split())


def _example_texts(examples: Any) -> Iterable[str]:
    # Rasa takes an intent's examples as one "- …" block, or as a list of {text, metadata} entries.
    if isinstance(examples, list):
        for entry in examples:
            text = entry.get("text") if isinstance(entry, dict) else entry
            if text is not None:
                yield str(text).strip()
        return
    for line in str(examples or "").splitlines():
        line = line.strip()
        if line.startswith("- "):
            yield line[2:]


def known_examples(nlu_dir: Path) -> Set[str]:
    """The plain text of every intent example in data/nlu/ (annotations removed), to avoid duplicating them."""
    texts: Set[str] = set()
    for path in sorted([*nlu_dir.rglob("*.yml"), *nlu_dir.rglob("*.yaml")]):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            logger.warning("Skipping unreadable NLU file %s", path)
            continue
        items = data.get("nlu") if isinstance(data, dict) else None
        for item in items or []:
            if isinstance(item, dict) and "intent" in item:
                texts.update(_plain(text) for text in _example_texts(item.get("examples")))
    return texts


@dataclass
class NluExport:
    """The YAML to add to data/nlu/, and what was left out."""

    yaml_text: str
    examples: int = 0
    by_intent: Dict[str, List[str]] = field(default_factory=dict)
    already_known: List[str] = field(default_factory=list)


def _yaml_block_line(example: str) -> str:
    return " ".join(example.split())


def export_corrections(corrections: Iterable[Tuple[str, str]], known: Set[str]) -> NluExport:
    """YAML in the layout of data/nlu/*.yml for (intent, annotated text) pairs, skipping known and repeated examples.

    Phone and 身份证 numbers are masked here too: training data must not carry personal data.
    """
    by_intent: Dict[str, List[str]] = {}
    seen: Set[str] = set(known)
    already: List[str] = []
    for intent, annotated in corrections:
        example = mask_personal_data(_yaml_block_line(annotated))
        plain = _plain(example)
        if plain in seen:
            if plain in known:
                already.append(plain)
            continue
        seen.add(plain)
        by_intent.setdefault(intent, []).append(example)
    lines = ['version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"  - intent: {intent}")
        lines.append("    examples: |")
        lines.extend(f"      - {example}" for example in by_intent[intent])
    export = NluExport("\n".join(lines) + "\n", sum(len(items) for items in by_intent.values()), by_intent, already)
    return export
