"""Where Rasa's start-up goes: imports, unpacking the model, loading each graph component, the first answers.

    python -m bench rasa_startup_bench          (or: python -m bench.rasa_startup_bench [MODEL])

Each measurement runs in a fresh interpreter (`python -m bench.rasa_startup_bench --child MODEL rasa|ours`), as
`rasa run` starts: TensorFlow import, the rest of Rasa's server imports, unpacking the model archive, instantiating
the prediction graph (timed per node: the component loads), Agent.load again with warm imports, and the
first two parses (TensorFlow traces on first use); the server's own start (Sanic, channels) is
the remainder, measured by bench/e2e_bench.py. Once with Rasa's own load path, once with the fixes our
server installs (rasa_extensions/fast_model_load.py). Wall-clock seconds on a shared machine: the load average
is reported alongside. Writes bench/reports/rasa_startup_bench.json.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORT = PROJECT_ROOT / "bench" / "reports" / "rasa_startup_bench.json"
MODEL = PROJECT_ROOT / "models" / "xiangxin.tar.gz"


def _child(model: Path, ours: bool) -> Dict[str, Any]:
    """The timings, measured in this (fresh) interpreter; `ours`: with the fixes our Rasa server installs."""
    timings: Dict[str, float] = {}
    started = time.perf_counter()
    mark = started

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 2)
        mark = now

    import tensorflow  # noqa: F401  (timed on purpose)

    lap("import_tensorflow")
    import rasa.core.agent  # noqa: F401
    import rasa.core.run  # noqa: F401
    import rasa.engine.graph as graph
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    if ours:
        from rasa_extensions import fast_action_validation, fast_model_load

        fast_action_validation.install()
        fast_model_load.install()
    lap("import_rasa_server")
    nodes: List[Dict[str, Any]] = []
    original = graph.GraphNode._load_component

    def timed(self: Any, **kwargs: Any) -> None:
        begun = time.perf_counter()
        original(self, **kwargs)
        nodes.append({"node": self._node_name, "component": self._component_class.__name__,
                      "seconds": round(time.perf_counter() - begun, 2)})

    graph.GraphNode._load_component = timed  # measurement only, in this throwaway interpreter
    with tempfile.TemporaryDirectory() as storage:
        model_storage, metadata = LocalModelStorage.from_model_archive(Path(storage), model)
        lap("unpack_model")
        runner = DaskGraphRunner.create(graph_schema=metadata.predict_schema, model_storage=model_storage,
                                        execution_context=graph.ExecutionContext(
                                            graph_schema=metadata.predict_schema, model_id=metadata.model_id))
        lap("load_graph_components")
        del runner
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))  # what `rasa run` does (unpacks and loads again, now with warm imports)
    lap("agent_load_warm")

    async def first_answers() -> None:
        await agent.parse_message("你好")
        lap("first_parse")
        await agent.parse_message("玉米多少钱")
        lap("second_parse")

    asyncio.run(first_answers())
    total = round(time.perf_counter() - started, 2)
    nodes.sort(key=lambda node: -node["seconds"])
    return {"phases_seconds": timings, "total_seconds": total, "components_seconds": nodes}


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    """Measure start-up phases in a fresh interpreter; returns (and writes) the report."""
    model = Path(argv[0]) if argv else MODEL
    if not model.exists():
        return {"ok": False, "error": f"{model} is missing: run `make setup`"}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    report: Dict[str, Any] = {"model": model.name, "cpus": os.cpu_count()}
    # Rasa's own load path, then ours (rasa_extensions' fixes, as the gateway channel installs them in `rasa run`).
    for path in ("rasa", "ours"):
        load_before = [round(value, 2) for value in os.getloadavg()]
        done = subprocess.run([sys.executable, "-m", "bench.rasa_startup_bench", "--child", str(model), path],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            return {"ok": False, "error": done.stderr[-3000:]}
        report[path] = json.loads(done.stdout.strip().splitlines()[-1])
        report[path].update({"load_average_before": load_before,
                             "load_average_after": [round(value, 2) for value in os.getloadavg()]})
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--child":
        result = _child(Path(sys.argv[2]), ours=sys.argv[3] == "ours")
        sys.stdout.write("\n" + json.dumps(result) + "\n")
    else:
        print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
