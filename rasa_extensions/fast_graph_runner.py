"""Rasa's prediction graph run node by node in a fixed order, instead of through dask's scheduler per message.

Why: `DaskGraphRunner.run` (rasa/engine/runner/dask.py, Rasa 3.6.21) runs for every message twice or more (the
NLU graph, then the policies for each action predicted). Each run recomputes the minimal schema for its targets
by a recursive walk, builds a dask task graph, and hands it to `dask.get`, which orders the tasks
(dask.order), starts a thread-pool executor and a queue, and executes one task at a time on this thread: the
same single-threaded execution a plain loop does, with about 8% of the Rasa server's CPU per message spent on
the scheduling around it (py-spy under bench/e2e_bench.py's conversations, issue 16).

What stays the same: the same nodes (`GraphNode`s, with their hooks), each called once with the outputs of the
nodes it needs in the order its schema lists them, inputs given as `(name, value)` as dask passed them, the same
result (`{node name: output}` for the targets), the same GraphRunError for an input named like a node and for a
RuntimeError, and component errors raised as they were (GraphNode wraps them). Only the order among nodes that do
not depend on each other may differ, which no node can observe: each gets only its own inputs.

tests/rasa_extensions/test_fast_graph_runner.py fails when Rasa's `run` changes (a hash of its source) and runs
the trained model's NLU and policy graphs both ways on the same messages and trackers, comparing the outputs.
Upstream: RasaHQ/rasa, rasa/engine/runner/dask.py `DaskGraphRunner.run` at tag 3.6.21; no upstream fix we know
of. Installed with the other serving fixes (rasa_extensions/cli.py `install_serving_fixes`).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

logger = logging.getLogger(__name__)

# sha256 of inspect.getsource(DaskGraphRunner.run) in Rasa 3.6.21 (see fast_action_validation.source_sha256).
PATCHED_SOURCE_SHA256 = "45f0f52f574f3aa9546a552bf671183e171092c18b66e97f5771a7fa295de37e"

ORIGINAL_RUN = DaskGraphRunner.run


def _plan(runner: DaskGraphRunner, targets: Tuple[str, ...]) -> Tuple[GraphSchema, List[str]]:
    """The minimal schema for `targets` and its nodes in an order where each comes after the nodes it needs
    (computed once per set of targets: the schema never changes after loading)."""
    plans: Dict[Tuple[str, ...], Tuple[GraphSchema, List[str]]] = runner.__dict__.setdefault("_xiangxin_plans", {})
    plan = plans.get(targets)
    if plan is None:
        schema = runner._graph_schema.minimal_graph_schema(list(targets))
        order: List[str] = []
        placed: set = set()

        def place(name: str) -> None:
            if name in placed or name not in schema.nodes:  # placed already, or an input placeholder
                return
            placed.add(name)
            for need in schema.nodes[name].needs.values():
                place(need)
            order.append(name)

        for name in schema.nodes:
            place(name)
        plan = plans[targets] = (schema, order)
    return plan


def run(self: DaskGraphRunner, inputs: Optional[Dict[str, Any]] = None,
        targets: Optional[List[str]] = None) -> Dict[str, Any]:
    """DaskGraphRunner.run without dask: each node of the minimal schema once, in dependency order."""
    run_targets = targets if targets else self._graph_schema.target_names
    schema, order = _plan(self, tuple(run_targets))
    outputs: Dict[str, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and input_value in schema.nodes:
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        outputs[input_name] = (input_name, input_value)
    try:
        for name in order:
            needs = schema.nodes[name].needs.values()
            # A need that is neither a node nor an input reaches the node as its name, as dask passed it.
            outputs[name] = self._instantiated_nodes[name](*(outputs.get(need, need) for need in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(outputs[target] for target in run_targets)


def install() -> None:
    """Replace DaskGraphRunner.run in this process (idempotent)."""
    DaskGraphRunner.run = run
    logger.debug("Rasa's graphs run node by node without dask's scheduler")
