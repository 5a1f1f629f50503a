"""python -m bench [NAME …]: run the benchmarks in bench/ and print one JSON report.

A benchmark is any module bench/<name>.py (not starting with "_") that defines
`main() -> dict`; the dict must be JSON-serialisable and is reported under the module's name.
To add one, drop a module in bench/; nothing here changes. Give names to run only those
(`python -m bench knowledge_bench`). The report is also written to var/bench/report.json.
The exit status is non-zero when a benchmark raised or reported "ok": false.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
REPORT_PATH = PROJECT_ROOT / "var" / "bench" / "report.json"


def discover() -> List[str]:
    """Names of the benchmark modules in bench/, sorted."""
    return sorted(
        info.name for info in pkgutil.iter_modules([str(BENCH_DIR)]) if not info.name.startswith("_")
    )


def run(names: List[str]) -> Dict[str, Any]:
    """Run the named benchmark modules; a failure is reported, not raised, so the others still run."""
    results: Dict[str, Any] = {}
    for name in names:
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            main = getattr(module, "main", None)
            if main is None:
                continue  # a helper module, not a benchmark
            results[name] = main()
        except Exception:  # report every failure and keep going with the other benchmarks
            results[name] = {"ok": False, "error": traceback.format_exc(limit=5)}
        results[name].setdefault("seconds", round(time.perf_counter() - started, 1))
    return results


def main(argv: List[str]) -> int:
    """Run the benchmarks, print the JSON report, save it under var/bench/."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    available = discover()
    unknown = [name for name in argv if name not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    report = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "benchmarks": run(argv or available),
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text(text + "\n", encoding="utf-8")
    print(text)
    failed = [name for name, result in report["benchmarks"].items() if result.get("ok") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
