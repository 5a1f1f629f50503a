"""settings.py as the one config contract: read once, validated at start-up by every process, ports derived
in one place and handed to Rasa, and every setting documented in the README."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from scripts import local_env
from settings import PROJECT_ROOT, Settings, load_settings, variable_names


def test_the_settings_are_read_once_per_process(environment) -> None:
    first = load_settings()
    environment(RASA_TIMEOUT_SECONDS="9")
    assert load_settings() is not first and load_settings() is load_settings()
    assert load_settings().rasa_timeout_seconds == 9


def test_defaults_work_offline_and_an_empty_variable_counts_as_unset(environment) -> None:
    environment(**{name: "  " for name in variable_names().values()})
    settings = load_settings()
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.action_server_url == "http://127.0.0.1:5055/webhook"
    assert settings.knowledge_db_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'knowledge.db'}"
    assert settings.upload_dir == PROJECT_ROOT / "var" / "uploads"
    assert (settings.rasa_timeout_seconds, settings.stale_after_days, settings.log_level) == (4, 7, "INFO")


def test_the_urls_follow_the_ports(environment) -> None:
    environment(RASA_PORT="5105", ACTIONS_HOST="10.0.0.2", ACTIONS_PORT="5155")
    settings = load_settings()
    assert settings.rasa_url == "http://127.0.0.1:5105"
    assert settings.action_server_url == "http://10.0.0.2:5155/webhook"


def test_an_explicit_url_wins_over_the_derived_one(environment) -> None:
    environment(RASA_PORT="5105", RASA_URL="http://rasa.internal:80", ACTION_SERVER_URL="http://lb:81/webhook")
    assert (load_settings().rasa_url, load_settings().action_server_url) == (
        "http://rasa.internal:80", "http://lb:81/webhook")


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("RASA_PORT", "abc", "value is not a valid integer"),
        ("GATEWAY_PORT", "70000", "ensure this value is less than or equal to 65535"),
        ("RASA_TIMEOUT_SECONDS", "0", "ensure this value is greater than or equal to 1"),
        ("PRICE_STALE_AFTER_DAYS", "-1", "ensure this value is greater than or equal to 0"),
        ("PENSION_ACCOUNT_INTEREST_PERCENT", "25", "ensure this value is less than or equal to 20"),
        ("CONSOLE_SECURE_COOKIES", "maybe", "value could not be parsed to a boolean"),
        ("LOG_LEVEL", "loud", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("RASA_URL", "rasa:5005", "must be an http:// or https:// address"),
        ("KNOWLEDGE_DB_URL", "var/knowledge.db", "must be a database URL"),
        ("PRICE_FEED_ALLOWED_URLS", "https://ok.example/,ftp://x/", "'ftp://x/' is not an http:// or https:// address"),
        ("PRICE_FEED_ALLOWED_NETWORKS", "10.0.0.0/8,intranet", "'intranet' is not a network such as 10.1.2.0/24"),
    ],
)
def test_a_bad_value_stops_with_one_line_naming_the_variable(environment, variable, value, problem) -> None:
    environment(**{variable: value})
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    message = str(stopped.value.code)
    assert "\n" not in message
    assert message.startswith(f"Invalid setting {variable}={value!r}: {problem}")


def test_log_level_is_case_insensitive(environment) -> None:
    environment(LOG_LEVEL="debug")
    assert load_settings().log_level == "DEBUG"


BAD = {"GATEWAY_PORT": "eighty"}
BAD_LINE = "Invalid setting GATEWAY_PORT='eighty': value is not a valid integer"


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "bot"],
        ["-m", "console"],
        ["-m", "actions"],
        ["-m", "rasa_sdk", "--actions", "actions"],  # what `rasa run actions` runs
        ["-m", "knowledge", "stats"],
        ["-m", "scripts.local_env", "var/never-written.env"],
        ["-m", "scripts.wait_ready"],
    ],
    ids=["gateway", "console", "action-server", "rasa-sdk", "knowledge-cli", "make-run-launcher", "ready-check"],
)
def test_every_process_stops_at_start_with_a_bad_setting(command: List[str], tmp_path: Path) -> None:
    env = dict(os.environ, **BAD, KNOWLEDGE_DB_URL=f"sqlite:///{tmp_path / 'never.db'}")
    finished = subprocess.run([sys.executable, *command], cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines()[-1] == BAD_LINE
    assert not (tmp_path / "never.db").exists()
    assert not (PROJECT_ROOT / "var" / "never-written.env").exists()


def _readme_settings() -> Dict[str, str]:
    """Variable → default column of the README's configuration table."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    found = {}
    for row in rows:
        names, default = row.split("|")[1:3]
        for name in re.findall(r"`([A-Z0-9_]+)`", names):
            found[name] = default.strip()
    return found


def test_the_readme_table_lists_exactly_the_settings() -> None:
    assert sorted(_readme_settings()) == sorted(variable_names().values())


def test_the_readme_states_the_numeric_defaults() -> None:
    documented = _readme_settings()
    defaults = Settings.__fields__
    for field, variable in variable_names().items():
        default = defaults[field].default
        if isinstance(default, int) and not isinstance(default, bool):
            assert f"`{default}`" in documented[variable], variable


def test_the_launcher_hands_rasa_its_addresses_and_keeps_generated_secrets(environment, tmp_path: Path) -> None:
    environment(RASA_PORT="5105", ACTIONS_PORT="5155", CONSOLE_SECRET_KEY="set-by-the-operator")
    env_file = tmp_path / "local.env"
    local_env.main(str(env_file))
    first = dict(line.split("=", 1) for line in env_file.read_text(encoding="utf-8").splitlines())
    assert first["RASA_PORT"] == "5105" and first["RASA_HOST"] == "127.0.0.1"
    assert first["ACTION_SERVER_URL"] == "http://127.0.0.1:5155/webhook"
    assert first["RASA_ENDPOINTS"] == "endpoints.yml"
    assert "CONSOLE_SECRET_KEY" not in first  # the environment's own value wins; never copied into a file
    local_env.main(str(env_file))
    second = dict(line.split("=", 1) for line in env_file.read_text(encoding="utf-8").splitlines())
    assert second["RASA_API_TOKEN"] == first["RASA_API_TOKEN"] and len(first["RASA_API_TOKEN"]) >= 32
    assert env_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("endpoints", ["endpoints.yml", "endpoints.production.yml"])
def test_rasa_expands_every_variable_of_the_endpoints_files(endpoints: str, monkeypatch) -> None:
    from rasa.shared.utils.io import read_config_file

    text = (PROJECT_ROOT / endpoints).read_text(encoding="utf-8")
    for name in set(re.findall(r"\$\{([A-Z_]+)\}", text)):
        monkeypatch.setenv(name, f"value-of-{name}")
    config = read_config_file(PROJECT_ROOT / endpoints)
    assert config["action_endpoint"]["url"] == "value-of-ACTION_SERVER_URL"
    assert "${" not in repr(config)
