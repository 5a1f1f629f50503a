"""How long `make test` takes on a fresh clone: the README's command as CI runs it, from nothing to green.

    python -m bench fresh_test_bench          (or: python -m bench.fresh_test_bench)

Clones this checkout's HEAD (what is committed, nothing else) into a throwaway folder and runs `CI=true make test`
there: a new .venv from requirements.lock (pip's own download cache is used, as on any machine that installed
once), the knowledge DB, the dictionary, validation, the unit tests while the model trains, the integration suite
with the golden conversations, the test stories and the held-out NLU. Each line of output is stamped with the
seconds since the start, so the report splits the total into the steps of the Makefile's `test` recipe. Needs the
machine's PostgreSQL and Redis like `make test` itself. Writes bench/reports/fresh_test_bench.json and .md.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

from bench._report import write_report
from bench.e2e_bench import PROJECT_ROOT, _commit, _load_average

TARGET_SECONDS = 600  # issue 16: a fresh `make test` in at most 10 minutes on this machine

# The first line of each step of `make test`, in the order the recipe runs them. The unit tests and the training
# run side by side (make -j2 --output-sync prints each one's output when it ends), so they form one step.
STEP_MARKERS: List[Tuple[str, "re.Pattern[str]"]] = [
    ("venv (pip install from requirements.lock)", re.compile(r"^Creating \.venv|pip install")),
    ("lint (ruff, mypy)", re.compile(r"ruff check")),
    ("knowledge DB, dictionary, rasa data validate", re.compile(r"-m knowledge migrate")),
    ("unit tests while the model trains", re.compile(r"^Unit tests while the model trains")),
    ("integration (real Rasa, golden conversations)", re.compile(r"-m pytest -m \"integration")),
    ("test stories", re.compile(r"rasa_extensions\.cli test core")),
    ("held-out NLU", re.compile(r"scripts\.holdout_report")),
]
SUMMARY = re.compile(r"=+ .*\b(passed|failed)\b.* in [\d.]+s")


def split_steps(stamped: List[Tuple[float, str]], total: float) -> List[Dict[str, Any]]:
    """Seconds per step: from the first line of a step to the first line of the next one found."""
    starts: List[Tuple[str, float]] = []
    position = 0
    for at, line in stamped:
        for index in range(position, len(STEP_MARKERS)):
            name, pattern = STEP_MARKERS[index]
            if pattern.search(line):
                if not starts or starts[-1][0] != name:
                    starts.append((name, at if starts else 0.0))  # the venv step begins at the start
                position = index
                break
    steps = []
    for index, (name, begun) in enumerate(starts):
        ended = starts[index + 1][1] if index + 1 < len(starts) else total
        steps.append({"step": name, "seconds": round(ended - begun, 1)})
    return steps


def _run_stamped(command: List[str], cwd: Path, env: Dict[str, str], log: Path) -> Tuple[int, List[Tuple[float, str]]]:
    started = time.monotonic()
    stamped: List[Tuple[float, str]] = []
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as process, log.open("w", encoding="utf-8") as out:
        assert process.stdout is not None
        for line in process.stdout:
            at = round(time.monotonic() - started, 1)
            stamped.append((at, line.rstrip("\n")))
            out.write(f"{at:7.1f} {line}")
    return process.returncode, stamped


def markdown(report: Dict[str, Any]) -> str:
    verdict = "met" if report["ok"] and report["seconds"] <= TARGET_SECONDS else "missed"
    lines = [
        "# Fresh-clone `make test` benchmark", "",
        f"Generated {report['generated_at']} by `python -m bench.fresh_test_bench`; code at {report['commit']}. "
        f"Machine: {report['cpus']} cores, shared; load average at start {report['load_average_start']}, at end "
        f"{report['load_average_end']}.", "",
        f"`CI=true make test` on a fresh clone: **{report['seconds']} s**, exit status {report['exit_status']} "
        f"(target ≤ {TARGET_SECONDS} s: {verdict}).", "",
        "| step | seconds |", "|---|---|",
    ]
    lines += [f"| {step['step']} | {step['seconds']} |" for step in report["steps"]]
    if report["pytest_summaries"]:
        lines += ["", "pytest's own summaries:", ""] + [f"- `{summary}`" for summary in report["pytest_summaries"]]
    return "\n".join(lines) + "\n"


def main() -> Dict[str, Any]:
    """Clone, run `make test`, write the report, return it."""
    workdir = Path(tempfile.mkdtemp(prefix="fresh_test_bench_"))
    clone = workdir / "xiangxin"
    try:
        subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "MAKE"))}
        env["CI"] = "true"
        load_start = _load_average()
        started = time.monotonic()
        status, stamped = _run_stamped(["make", "test"], clone, env, workdir / "make_test.log")
        seconds = round(time.monotonic() - started, 1)
        report: Dict[str, Any] = {
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "commit": _commit(clone), "cpus": os.cpu_count(), "load_average_start": load_start,
            "load_average_end": _load_average(), "seconds": seconds, "exit_status": status,
            "target_seconds": TARGET_SECONDS, "steps": split_steps(stamped, seconds),
            "pytest_summaries": [line.strip("= ") for _, line in stamped if SUMMARY.search(line)],
            "ok": status == 0,
        }
        if status != 0:
            report["tail"] = [line for _, line in stamped[-40:]]
        write_report("fresh_test_bench", report, markdown(report))
        return report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
