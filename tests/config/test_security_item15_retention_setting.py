"""Security item 15: how long personal data is kept is one setting (default 180 days, the minimum China's
Cybersecurity Law asks for logs), documented, and the bot's greeting tells farmers what is kept and for how long."""
from __future__ import annotations

import pytest
import yaml

from settings import PROJECT_ROOT, Settings, load_settings


def test_item15_retention_defaults_to_180_days_and_refuses_nonsense(environment) -> None:
    assert Settings().personal_data_retention_days == 180
    environment(PERSONAL_DATA_RETENTION_DAYS="30")
    assert load_settings().personal_data_retention_days == 30
    environment(PERSONAL_DATA_RETENTION_DAYS="0")
    with pytest.raises(SystemExit, match="PERSONAL_DATA_RETENTION_DAYS"):
        load_settings()


def test_item15_readme_documents_retention_forgetting_and_backups() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `PERSONAL_DATA_RETENTION_DAYS` | `180` |" in readme
    assert "python -m knowledge retention" in readme
    assert "/forget" in readme and "删除我的记录" in readme
    assert "backup" in readme.lower() and "-mtime +180" in readme


def test_item15_the_greeting_says_what_is_kept_for_how_long_and_how_to_delete_it() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    greeting = " ".join(item["text"] for item in domain["responses"]["utter_greet"])
    assert "聊天记录" in greeting and f"{Settings().personal_data_retention_days}天" in greeting
    assert "删除我的记录" in greeting
