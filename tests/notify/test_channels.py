"""`fedimpute notify add/list/remove/test`: channels kept per user in the secret store, shown without
their credentials, checked with apprise when added, and tested against real receivers on loopback."""

from __future__ import annotations

import json

import pytest

from fedimpute.cli import main
from fedimpute.credentials import Credentials
from fedimpute.notify.channels import EVENTS, ChannelBook
from tests.notify.conftest import HOOK_TOKEN, PLANTED, SMTP_PASSWORD


def run(capsys, *args: str, user: str | None = None) -> tuple[int, str, str]:
    code = main(["notify", *args] + (["--user", user] if user else []))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def add(capsys, url: str, *extra: str, user: str | None = None) -> dict:
    code, out, err = run(capsys, "add", url, "--json", *extra, user=user)
    assert code == 0, err
    return json.loads(out)


def test_add_and_list__show_scheme_host_and_events_never_the_url(capsys, home, smtp, webhook):
    mail = add(capsys, smtp.url(), "--events", "failed,completed")
    hook = add(capsys, webhook.url())
    slack = add(capsys, "slack://T1ABCDEFG/B1XYZ1234/PlantedSlackTokenABCDEFGH/#lab")
    assert mail == {"id": mail["id"], "scheme": "mailto", "host": f"127.0.0.1:{smtp.port}",
                    "events": ["completed", "failed"], "last_error": None}
    assert hook["scheme"] == "json" and hook["host"] == webhook.url_base.removeprefix("http://")
    assert hook["events"] == list(EVENTS)
    assert slack["host"] == "Slack"  # slack://TokenA/...: the "host" is a token, so the service's name is shown
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0 and json.loads(out) == [mail, hook, slack]
    code, text, _ = run(capsys, "list")
    assert code == 0 and f"{mail['id']}\tmailto\t127.0.0.1:{smtp.port}\tcompleted,failed\tok" in text
    for shown in (out, text):
        assert not any(secret in shown for secret in (*PLANTED, "PlantedSlackToken", "alice-mail"))
    secrets = (home / "secrets.json").read_text()
    assert SMTP_PASSWORD in secrets and (home / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_add__an_unknown_scheme_exits_2_with_examples(capsys, home):
    code, out, err = run(capsys, "add", "smoke-signal://hill/PlantedPw-123456")
    assert code == 2 and out == ""
    assert "not a notification URL apprise can use (scheme 'smoke-signal' is not supported" in err
    assert "mailtos://USER:PASSWORD@smtp.example.org?to=you@example.org" in err and "json://" in err
    assert "PlantedPw-123456" not in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "add", "no scheme at all")
    assert code == 2 and "(no scheme://)" in err
    code, _, err = run(capsys, "add", "json://127.0.0.1:9/x", "--events", "completed,explosions")
    assert code == 2 and "unknown event(s) explosions; choose from completed,failed,expiring" in err
    assert ChannelBook(Credentials()).channels("tester") == []


def test_channels__a_users_channels_are_invisible_to_another_user(capsys, home, webhook):
    alice = add(capsys, webhook.url(), user="alice")
    code, out, _ = run(capsys, "list", "--json", user="bob")
    assert code == 0 and json.loads(out) == []
    code, _, err = run(capsys, "remove", alice["id"], user="bob")
    assert code == 3 and f"bob has no notification channel {alice['id']!r}" in err
    code, _, err = run(capsys, "test", alice["id"], user="bob")
    assert code == 3 and webhook.received == []
    code, _, err = run(capsys, "test", user="bob")
    assert code == 2 and "bob has no notification channels; add one with `fedimpute notify add URL`" in err
    assert [c["id"] for c in json.loads(run(capsys, "list", "--json", user="alice")[1])] == [alice["id"]]


def test_add__reads_the_url_from_stdin(capsys, home, webhook, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(webhook.url() + "\n"))
    code, out, err = run(capsys, "add", "--url-stdin", "--json")
    assert code == 0, err
    assert json.loads(out)["host"] == webhook.url_base.removeprefix("http://")
    code, _, err = run(capsys, "add")
    assert code == 2 and "give the channel's apprise URL, or --url-stdin" in err


def test_remove__forgets_the_channel(capsys, home, webhook):
    kept = add(capsys, webhook.url())
    gone = add(capsys, webhook.url(token="AnotherToken-123456"))
    code, _, err = run(capsys, "remove", gone["id"])
    assert code == 0 and f"removed channel {gone['id']} (json" in err
    assert [c["id"] for c in json.loads(run(capsys, "list", "--json")[1])] == [kept["id"]]
    assert "AnotherToken-123456" not in (home / "secrets.json").read_text()


def test_add__the_same_url_again_updates_its_events(capsys, home, webhook):
    first = add(capsys, webhook.url(), "--events", "failed")
    again = add(capsys, webhook.url(), "--events", "completed")
    assert again["id"] == first["id"] and again["events"] == ["completed"]
    assert len(json.loads(run(capsys, "list", "--json")[1])) == 1


def test_notify_test__says_ok_per_channel(capsys, home, smtp, webhook):
    mail, hook = add(capsys, smtp.url()), add(capsys, webhook.url())
    code, out, err = run(capsys, "test")
    assert code == 0, err
    assert out.splitlines() == [f"{mail['id']} (mailto 127.0.0.1:{smtp.port}): ok",
                                f"{hook['id']} (json {hook['host']}): ok"]
    assert len(smtp.messages) == 1 and smtp.messages[0]["Subject"] == "fedimpute: test notification"
    assert "This is a test of tester's notification channel" in smtp.bodies()[0]
    assert webhook.received[0]["title"] == "fedimpute: test notification"
    assert webhook.paths == [f"/hooks/{HOOK_TOKEN}"] and webhook.auth[0].startswith("Basic ")
    code, out, _ = run(capsys, "test", hook["id"], "--json")
    assert code == 0 and json.loads(out) == [{"id": hook["id"], "scheme": "json", "host": hook["host"],
                                              "ok": True, "error": None}]


def test_notify_test__says_why_a_channel_failed_and_exits_1(capsys, home, smtp, webhook):
    good = add(capsys, webhook.url())
    wrong_password = add(capsys, smtp.url(password="PlantedWrongPw-5511"))
    webhook.failures = [500]
    code, out, err = run(capsys, "test")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{good['id']} (json {good['host']}): FAILED: ") and "500" in lines[0]
    assert lines[1].startswith(f"{wrong_password['id']} (mailto 127.0.0.1:{smtp.port}): FAILED: ")
    assert "error while submitting email" in lines[1]
    assert "2 of 2 channel(s) failed the test" in err and set(smtp.logins) == {"refused"}  # PLAIN, then LOGIN
    listed = {c["id"]: c["last_error"] for c in json.loads(run(capsys, "list", "--json")[1])}
    assert "500" in listed[good["id"]] and "email" in listed[wrong_password["id"]]
    assert not any(s in out + err + json.dumps(listed) for s in (*PLANTED, "PlantedWrongPw-5511"))
    code, out, _ = run(capsys, "test", good["id"])  # the receiver answers again: the error is cleared
    assert code == 0 and out.endswith(": ok\n")
    assert {c["id"]: c["last_error"] for c in json.loads(run(capsys, "list", "--json")[1])}[good["id"]] is None


@pytest.mark.parametrize("url", ["https://imputation.example.org/", "http://10.0.0.5:5006"])
def test_public_url__kept_for_the_senders(home, url, monkeypatch):
    from fedimpute.notify.messages import PUBLIC_URL_ENV, job_link, public_url, save_public_url

    save_public_url(home, url)
    assert public_url(home) == url.rstrip("/")
    assert job_link(public_url(home), "fi-1") == f"{url.rstrip('/')}/dashboard?job=fi-1"
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://other.example.org")
    assert public_url(home) == "https://other.example.org"
    monkeypatch.delenv(PUBLIC_URL_ENV)
    save_public_url(home, "")
    assert public_url(home) is None


def test_serve__a_bad_public_url_exits_2_before_serving(capsys, home):
    code = main(["serve", "--public-url", "ftp://user:pw@example.org"])
    err = capsys.readouterr().err
    assert code == 2 and "--public-url must be the http(s) address people open" in err and "pw" not in err
    assert not (home / "public_url").exists()
