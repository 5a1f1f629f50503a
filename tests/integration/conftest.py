"""Real Rasa and action servers, started once for the integration suite on free ports."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator

import pytest
import yaml
from aiohttp.test_utils import TestClient

from settings import PROJECT_ROOT
from tests.conftest import copy_database
from tests.servers import MODEL, free_port, wait_for


@pytest.fixture(scope="session")
def rasa_stack(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    """A real action server and Rasa server over a fresh seeded knowledge DB; yields their URLs."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test trains it first).")
    workdir = tmp_path_factory.mktemp("rasa_stack")
    knowledge_url = copy_database(seeded_template, workdir / "knowledge.db")
    rasa_port, actions_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    # The project's own endpoints.yml (its tracker store and action endpoint options), on this stack's port and file.
    config = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    config["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    config["tracker_store"]["db"] = str(workdir / "tracker.db")
    endpoints.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    # As under `make run`, Rasa and the gateways of the tests share the webhook secret through the environment
    # (gateways read it when the tests build their Settings).
    webhook_secret = secrets.token_urlsafe(32)
    previous_secret = os.environ.get("RASA_WEBHOOK_SECRET")
    os.environ["RASA_WEBHOOK_SECRET"] = webhook_secret
    env = dict(os.environ, KNOWLEDGE_DB_URL=knowledge_url, ACTIONS_HOST="127.0.0.1", ACTIONS_PORT=str(actions_port),
               RASA_TELEMETRY_ENABLED="false")
    rasa_bin = str(Path(sys.executable).parent / "rasa")
    commands = {
        "actions": [sys.executable, "-m", "actions"],  # as the Procfile starts it
        "rasa": [rasa_bin, "run", "--model", str(MODEL), "--endpoints", str(endpoints),
                 "--credentials", str(PROJECT_ROOT / "credentials.yml"), "--interface", "127.0.0.1",
                 "--port", str(rasa_port)],
    }
    processes = {}
    try:
        for name, command in commands.items():
            log = workdir / f"{name}.log"
            processes[name] = (subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log.open("w"),
                                                stderr=subprocess.STDOUT), log)
        wait_for(f"http://127.0.0.1:{actions_port}/health", *processes["actions"])
        wait_for(f"http://127.0.0.1:{rasa_port}/", *processes["rasa"])
        yield {"rasa_url": f"http://127.0.0.1:{rasa_port}", "tracker_db": str(workdir / "tracker.db"),
               "knowledge_db_url": knowledge_url}
    finally:
        if previous_secret is None:
            os.environ.pop("RASA_WEBHOOK_SECRET", None)
        else:
            os.environ["RASA_WEBHOOK_SECRET"] = previous_secret
        for process, _log in processes.values():
            process.terminate()
        for process, _log in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


async def ask(client: TestClient, text: str) -> str:
    """Ask through the web chat (the client has loaded the page); returns the bot's replies as one text."""
    response = await client.post("/api/messages", json={"message": text})
    assert response.status == 200
    return "\n".join(reply["text"] for reply in (await response.json())["replies"])
