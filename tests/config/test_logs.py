"""logs.py: one log setup for every process, masking secrets and farmers' personal numbers."""
from __future__ import annotations

import logging
import sys

from aiohttp import web

import console.app
from logs import RedactingHandler, configure_logging
from settings import load_settings

TOKEN = "123456:AAE-console-test-token"


def test_a_token_and_a_phone_number_logged_from_the_console_are_masked(environment, monkeypatch, capsys) -> None:
    environment(TELEGRAM_BOT_TOKEN=TOKEN, LOG_LEVEL="INFO")
    monkeypatch.setattr(web, "run_app", lambda *args, **kwargs: None)  # main() up to serving, not serving
    console.app.main()
    logging.getLogger("console.views.handoff").info("officer answered 13812345678 via bot%s", TOKEN)
    logged = capsys.readouterr().err
    assert "officer answered 138****5678 via bot[redacted]" in logged
    assert "13812345678" not in logged and TOKEN not in logged and TOKEN.split(":")[1] not in logged


def test_it_takes_the_place_of_rasa_sdks_coloured_handler(environment) -> None:
    from rasa_sdk.utils import configure_colored_logging

    environment(RASA_API_TOKEN="rasa-api-token-value")
    configure_colored_logging("INFO")  # what the SDK does before it imports the actions
    handler = configure_logging(load_settings())
    configure_logging(load_settings())  # a second call replaces, never adds
    to_terminal = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) in (sys.stderr, sys.stdout)]
    assert [type(h) for h in to_terminal] == [RedactingHandler] and handler not in logging.getLogger().handlers
