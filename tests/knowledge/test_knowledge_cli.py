"""The knowledge CLI beyond imports: accounts, export, stats, reindex."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from knowledge.cli import main
from knowledge.models import Account, AuditLog
from knowledge.people.accounts import verify_password

PASSWORD = "稻花香里说丰年-2026"


def test_create_user_from_stdin_stores_only_an_argon2_hash(kb, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = main(["--db", kb.url, "create-user", "li_officer", "--role", "officer", "--region", "藁城",
                 "--display-name", "李信息员", "--password-stdin", "--actor", "admin"])
    output = capsys.readouterr()
    assert code == 0
    assert PASSWORD not in output.out + output.err
    with kb.scope() as session:
        account = session.scalars(select(Account).where(Account.username == "li_officer")).one()
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "account")).one()
        assert account.region.name == "藁城区"
    assert account.role == "officer" and account.display_name == "李信息员"
    assert account.password_hash.startswith("$argon2id$")
    assert verify_password(account.password_hash, PASSWORD)
    assert not verify_password(account.password_hash, "wrong-password")
    assert audit.actor == "admin" and PASSWORD not in audit.after and "argon2" not in audit.after


def test_create_user_prompts_twice_without_echo(kb, monkeypatch, capsys):
    answers = iter(["first-password", "other-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["--db", kb.url, "create-user", "wang", "--role", "reviewer"]) == 1
    assert "两次输入的密码不一样" in capsys.readouterr().err
    answers = iter(["same-password", "same-password"])
    assert main(["--db", kb.url, "create-user", "wang", "--role", "reviewer"]) == 0
    output = capsys.readouterr()
    assert "same-password" not in output.out + output.err


@pytest.mark.parametrize(
    ("arguments", "password", "reason"),
    [
        (["zhao", "--role", "officer"], "long-enough-pw", "必须指定负责的地区"),
        (["zhao", "--role", "admin"], "short", "密码至少要 8 位"),
        (["zhao", "--role", "admin", "--region", "火星"], "long-enough-pw", "不认识的地区“火星”"),
        (["bad name!", "--role", "admin"], "long-enough-pw", "用户名只能用"),
    ],
)
def test_create_user_refuses_with_a_chinese_reason(kb, monkeypatch, capsys, arguments, password, reason):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["--db", kb.url, "create-user", *arguments, "--password-stdin"]) == 1
    assert reason in capsys.readouterr().err
    with kb.scope() as session:
        assert session.scalars(select(Account)).all() == []


def test_create_user_refuses_a_taken_username_and_an_unknown_role(kb, monkeypatch, capsys):
    for _ in range(2):
        monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-pw\n"))
        code = main(["--db", kb.url, "create-user", "chen", "--role", "admin", "--password-stdin"])
    assert code == 1 and "已经有人用了" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--db", kb.url, "create-user", "sun", "--role", "superuser", "--password-stdin"])


def test_export_stats_and_reindex_commands(kb, tmp_path, capsys):
    assert main(["--db", kb.url, "export", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "prices.csv").read_text(encoding="utf-8-sig").count("\n") == 90  # header + 89
    assert main(["--db", kb.url, "stats"]) == 0
    assert "文章 articles: 36" in capsys.readouterr().out
    assert main(["--db", kb.url, "reindex"]) == 0
    assert "36 篇" in capsys.readouterr().out
