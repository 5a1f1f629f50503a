"""Run the golden conversations through Rasa's REST channel and score what the farmer would see.

Each conversation gets its own sender id, its turns are sent in order, and each reply (texts and
button titles) is judged by what it contains (tests/golden/conversation_set.py), never by the
intent Rasa predicted. A conversation is right when every turn is right; the score is the share of
right conversations, per kind and overall.

    python -m tests.golden.run_conversations --rasa-url http://127.0.0.1:5005 [--kind K] [--failures]

needs running Rasa and action servers (`make run`); the integration test
tests/integration/test_golden_conversations.py starts its own over a fresh seeded knowledge DB and
checks the scores against tests/golden/thresholds.yml. Exits 1 when a score is under its floor.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from rasa_extensions.gateway_channel import SECRET_HEADER
from tests.golden.conversation_set import Conversation, load_conversations, reply_text
from tests.golden.thresholds import load_thresholds, shortfalls

REQUEST_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class TurnResult:
    """What the farmer said, what the bot replied, and what is wrong with the reply."""

    user: str
    reply: str
    problems: List[str]


@dataclass(frozen=True)
class ConversationResult:
    """A conversation as it went."""

    conversation: Conversation
    turns: List[TurnResult]

    @property
    def passed(self) -> bool:
        """Right only when every turn is right."""
        return all(not turn.problems for turn in self.turns)


def send(rasa_url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    """One message through Rasa's gateway channel, as the gateway sends it (with RASA_WEBHOOK_SECRET from the
    environment, which the integration fixture and `make run`'s var/local.env set); the bot's replies."""
    request = urllib.request.Request(
        f"{rasa_url.rstrip('/')}/webhooks/gateway/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode("utf-8"),
        headers={"Content-Type": "application/json", SECRET_HEADER: os.environ.get("RASA_WEBHOOK_SECRET", "")},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310 (our own server)
        return json.loads(response.read().decode("utf-8"))


def run_conversation(rasa_url: str, conversation: Conversation, run_tag: str) -> ConversationResult:
    """Send every turn of one conversation as one farmer and judge each reply."""
    sender = f"golden-{run_tag}-{conversation.id}"
    results = []
    for turn in conversation.turns:
        reply = reply_text(send(rasa_url, sender, turn.user))
        results.append(TurnResult(turn.user, reply, turn.problems(reply)))
    return ConversationResult(conversation, results)


def run_conversations(
    rasa_url: str, conversations: Sequence[Conversation], workers: int = 2
) -> List[ConversationResult]:
    """Run the conversations, `workers` at a time (each one's turns in order), in the set's order."""
    run_tag = f"{int(time.time()):x}"  # a fresh farmer per run, even against a long-lived tracker store
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda conversation: run_conversation(rasa_url, conversation, run_tag), conversations))


def score(results: Sequence[ConversationResult]) -> Dict[str, Any]:
    """Right conversations per kind and overall, and right turns overall."""
    by_kind: Dict[str, List[bool]] = defaultdict(list)
    for result in results:
        by_kind[result.conversation.kind].append(result.passed)
    turns = [not turn.problems for result in results for turn in result.turns]
    passed = [result.passed for result in results]

    def share(values: List[bool]) -> Dict[str, Any]:
        return {"passed": sum(values), "total": len(values), "score": round(sum(values) / len(values), 4)}

    return {
        "overall": share(passed),
        "kinds": {kind: share(values) for kind, values in sorted(by_kind.items())},
        "turns": share(turns),
    }


def flat_scores(report: Dict[str, Any]) -> Dict[str, float]:
    """{"overall": …, "<kind>": …}: the scores the floors in thresholds.yml are kept against."""
    scores = {kind: figures["score"] for kind, figures in report["kinds"].items()}
    scores["overall"] = report["overall"]["score"]
    return scores


def floors(thresholds: Dict[str, Any]) -> Dict[str, float]:
    """The conversation floors of thresholds.yml in the shape of `flat_scores`."""
    section = thresholds["conversations"]
    return {"overall": section["overall"], **section["kinds"]}


def format_report(report: Dict[str, Any]) -> str:
    """The score table: one line per kind, then overall and turns."""
    lines = [f"{'kind':<28}{'right':>9}{'score':>9}"]
    for kind, figures in report["kinds"].items():
        lines.append(f"{kind:<28}{figures['passed']:>4}/{figures['total']:<4}{figures['score']:>9.1%}")
    for name in ("overall", "turns"):
        figures = report[name]
        lines.append(f"{name.upper():<28}{figures['passed']:>4}/{figures['total']:<4}{figures['score']:>9.1%}")
    return "\n".join(lines)


def format_failures(results: Sequence[ConversationResult]) -> str:
    """Every wrong conversation: each turn, the reply and what is wrong with it."""
    blocks = []
    for result in results:
        if result.passed:
            continue
        lines = [f"[{result.conversation.kind}] {result.conversation.id}"]
        for turn in result.turns:
            lines.append(f"  > {turn.user}")
            lines.extend(f"    < {line}" for line in (turn.reply or "(no reply)").splitlines())
            lines.extend(f"    ✗ {problem}" for problem in turn.problems)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def write_json(path: Path, report: Dict[str, Any], results: Sequence[ConversationResult]) -> None:
    """The report and every conversation's replies, for reading failures later."""
    path.parent.mkdir(parents=True, exist_ok=True)
    detail = [
        {
            "id": result.conversation.id,
            "kind": result.conversation.kind,
            "passed": result.passed,
            "turns": [{"user": t.user, "reply": t.reply, "problems": t.problems} for t in result.turns],
        }
        for result in results
    ]
    path.write_text(json.dumps({"report": report, "conversations": detail}, ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def main(argv: Optional[List[str]] = None) -> int:
    """Run the set against a running Rasa server, print the scores, exit 1 when one is under its floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--kind", action="append", help="run only this kind (repeatable)")
    parser.add_argument("--failures", action="store_true", help="print every wrong conversation")
    parser.add_argument("--json", type=Path, help="write the report and every reply to this file")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    conversations = [c for c in load_conversations() if not args.kind or c.kind in args.kind]
    results = run_conversations(args.rasa_url, conversations, workers=args.workers)
    report = score(results)
    if args.failures:
        print(format_failures(results) + "\n")
    print(format_report(report))
    if args.json:
        write_json(args.json, report, results)
    if args.kind:
        return 0  # a subset has no overall floor to meet
    missing = shortfalls(flat_scores(report), floors(load_thresholds()))
    if missing:
        print("under the floor: " + "; ".join(missing), file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
