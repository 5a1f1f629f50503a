"""Security item 14: what our processes log and show in `ps` gives away no secret and no farmer.

Every secret setting is masked in every log line (not only the four the gateway knew first); the
farmers' sender ids that reach logs in paths (the console's access log: /conversations/web-…,
/conversations/tg-…) are shortened to a few characters; and Rasa's API token is not on any process's
command line, where `ps` shows it to every user of the machine.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from logs import configure_logging
from settings import PROJECT_ROOT, Settings, load_settings

SECRET_FIELDS = [name for name in Settings.__fields__ if name.endswith(("_secret", "_secret_key", "_token"))]


def _logged(message: str, *args: object) -> str:
    stream = io.StringIO()
    configure_logging(load_settings(), stream)
    logging.getLogger("console.test").warning(message, *args)
    return stream.getvalue()


def test_item14_every_secret_setting_is_masked_in_logs(environment) -> None:
    values = {field: f"{field}-value-0123456789" for field in SECRET_FIELDS}
    environment(**{field.upper(): value for field, value in values.items()})
    line = _logged("config: %s", " ".join(values.values()))
    assert [field for field, value in values.items() if value in line] == []


def test_item14_sender_ids_in_logged_paths_are_shortened(environment) -> None:
    environment(LOG_LEVEL="INFO")
    web_sender, tg_sender = "web-" + "3f" * 16, "tg-5123456789"
    line = _logged('127.0.0.1 "GET /conversations/%s HTTP/1.1" 200; "GET /conversations/%s" 200', web_sender,
                   tg_sender)
    assert web_sender not in line and tg_sender not in line
    assert "/conversations/web-" in line and "/conversations/tg-" in line


def test_item14_rasas_api_token_is_not_on_the_command_line() -> None:
    procfile = (PROJECT_ROOT / "Procfile").read_text(encoding="utf-8")
    assert "RASA_API_TOKEN" not in procfile and "--auth-token" not in procfile
    assert "--enable-api" in Path(PROJECT_ROOT / "rasa_extensions" / "serve.py").read_text(encoding="utf-8")


def test_item14_the_launcher_adds_the_token_and_refuses_to_run_without_one() -> None:
    from rasa_extensions.serve import rasa_arguments

    assert rasa_arguments(["--port", "5005"], "tok") == ["rasa", "run", "--port", "5005", "--enable-api",
                                                         "--auth-token=tok"]
    # A token that begins with "-" (one generated token in 64) reaches Rasa's own parser as the token.
    import argparse

    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    assert parser.parse_args(rasa_arguments([], "-Xy_z")[2:]).auth_token == "-Xy_z"
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        rasa_arguments([], "")
