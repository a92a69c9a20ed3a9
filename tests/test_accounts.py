"""Accounts of the served dashboard: argon2 hashes in an owner-only file, and the `users` commands."""

from __future__ import annotations

import io
import json
import stat

import pytest

from fedimpute.accounts import Accounts
from fedimpute.cli import main
from fedimpute.exceptions import UsageError

PASSWORD = "correct horse battery"


def test_add_verify_and_list(home):
    accounts = Accounts(home)
    assert not accounts.exists()
    accounts.add("alice", PASSWORD, admin=True)
    assert accounts.exists()
    assert accounts.verify("alice", PASSWORD).admin
    assert accounts.verify("alice", PASSWORD + "x") is None
    assert accounts.verify("mallory", PASSWORD) is None
    assert [a.name for a in accounts.list()] == ["alice"]


def test_only_hashes_in_an_owner_only_file(home):
    Accounts(home).add("alice", PASSWORD)
    path = home / "users.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text and json.loads(text)["alice"]["hash"].startswith("$argon2id$")


def test_password_change_and_removal_move_the_stamp(home):
    accounts = Accounts(home)
    accounts.add("bob", PASSWORD)
    stamp = accounts.stamp("bob")
    accounts.set_password("bob", PASSWORD + " 2")
    assert accounts.stamp("bob") not in (None, stamp)
    assert accounts.verify("bob", PASSWORD) is None and accounts.verify("bob", PASSWORD + " 2")
    accounts.remove("bob")
    assert accounts.stamp("bob") is None


def test_a_second_process_sees_changes(home):
    """A server's Accounts sees `users remove` made by another Accounts (another process) at once."""
    server, cli = Accounts(home), Accounts(home)
    cli.add("bob", PASSWORD)
    assert server.stamp("bob") is not None
    cli.remove("bob")
    assert server.stamp("bob") is None


@pytest.mark.parametrize(("name", "password", "message"), [
    ("alice", "short", "too short"),
    ("../etc", PASSWORD, "not a valid user name"),
    ("", PASSWORD, "not a valid user name"),
])
def test_bad_names_and_passwords_are_refused(home, name, password, message):
    with pytest.raises(UsageError, match=message):
        Accounts(home).add(name, password)


def test_check_private_fails_closed(home):
    accounts = Accounts(home)
    with pytest.raises(UsageError, match="no accounts"):
        accounts.check_private()
    accounts.add("alice", PASSWORD)
    accounts.check_private()
    accounts.path.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        accounts.check_private()


def run(capsys, monkeypatch, args: list[str], stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_users_commands(home, monkeypatch, capsys):
    monkeypatch.setenv("FEDIMPUTE_HOME", str(home))
    assert run(capsys, monkeypatch, ["users", "add", "alice", "--admin", "--password-stdin"], PASSWORD + "\n")[0] == 0
    assert run(capsys, monkeypatch, ["users", "add", "bob", "--password-stdin"], PASSWORD + "\n")[0] == 0
    code, out, _ = run(capsys, monkeypatch, ["users", "list", "--json"])
    rows = json.loads(out)
    assert [(r["name"], r["admin"]) for r in rows] == [("alice", True), ("bob", False)]
    assert set(rows[0]) == {"name", "admin", "created_at", "last_sign_in"}
    assert run(capsys, monkeypatch, ["users", "passwd", "bob", "--password-stdin"], "another long one\n")[0] == 0
    assert Accounts(home).verify("bob", "another long one")
    assert run(capsys, monkeypatch, ["users", "remove", "bob"])[0] == 0
    assert Accounts(home).get("bob") is None
    assert run(capsys, monkeypatch, ["users", "remove", "bob"])[0] == 2
    code, _, err = run(capsys, monkeypatch, ["users", "add", "carol"])
    assert code == 2 and "--password-stdin" in err


def test_an_older_hash_is_upgraded_at_sign_in(home):
    """Hashes made with other argon2 parameters keep working and move to the current ones."""
    from argon2 import PasswordHasher

    accounts = Accounts(home)
    accounts.add("alice", PASSWORD)
    records = json.loads(accounts.path.read_text())
    records["alice"]["hash"] = PasswordHasher(time_cost=3, memory_cost=65_536, parallelism=4).hash(PASSWORD)
    accounts.path.write_text(json.dumps(records))
    stamp = accounts.stamp("alice")
    assert accounts.verify("alice", PASSWORD)
    upgraded = json.loads(accounts.path.read_text())["alice"]["hash"]
    assert upgraded.startswith("$argon2id$v=19$m=47104,t=1,p=1$") and accounts.stamp("alice") == stamp
    assert accounts.verify("alice", PASSWORD)
