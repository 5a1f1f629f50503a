"""Where a benchmark's report goes: bench/reports/<name>.json for machines and <name>.md for people, committed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

REPORT_DIR = Path(__file__).resolve().parent / "reports"


def read_report(name: str) -> Dict[str, Any]:
    """bench/reports/<name>.json as written last, or {} when that benchmark has not been run."""
    path = REPORT_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_report(name: str, report: Dict[str, Any], page: Optional[str] = None) -> Path:
    """Write bench/reports/<name>.json (and <name>.md when a page is given); returns the JSON's path."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORT_DIR / f"{name}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if page is not None:
        (REPORT_DIR / f"{name}.md").write_text(page, encoding="utf-8")
    return path
