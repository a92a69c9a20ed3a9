"""`fedimpute services history`: the recorded health checks of a service and its uptime share."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from fedimpute.cli import main
from fedimpute.models import HealthRecord, HealthStatus, utcnow

UP, DOWN, MAINTENANCE = HealthStatus.UP, HealthStatus.DOWN, HealthStatus.MAINTENANCE


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _record(store, service: str, checks: list[tuple[float, HealthStatus]]) -> None:
    """Health checks ``hours`` ago, as the monitor records them."""
    now = utcnow()
    for hours, status in checks:
        store.record_health(HealthRecord(service=service, status=status, checked_at=now - timedelta(hours=hours),
                                         detail=f"{status.value} <b>as seen</b>"))


def test_services_history__json_has_the_checks_and_the_uptime(capsys, store):
    _record(store, "michigan", [(30 * 24, DOWN), (50, UP), (26, DOWN), (2, UP), (1, MAINTENANCE)])
    _record(store, "topmed", [(3, DOWN)])
    code, out, err = run(capsys, "services", "history", "michigan", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["name"] == "michigan" and doc["days"] == 7
    assert [c["status"] for c in doc["checks"]] == ["up", "down", "up", "maintenance"]  # oldest first, 7 days
    assert all(set(c) == {"checked_at", "status", "detail"} for c in doc["checks"])
    times = [datetime.fromisoformat(c["checked_at"].replace("Z", "+00:00")) for c in doc["checks"]]
    assert times == sorted(times) and doc["checks"][0]["checked_at"].endswith("Z")
    assert doc["checks"][0]["detail"] == "up <b>as seen</b>"  # the text as recorded
    assert doc["uptime"] == 0.5

    wide = json.loads(run(capsys, "services", "history", "michigan", "--days", "60", "--json")[1])
    assert len(wide["checks"]) == 5 and wide["uptime"] == 0.4
    day = json.loads(run(capsys, "services", "history", "michigan", "--days", "1", "--json")[1])
    assert [c["status"] for c in day["checks"]] == ["up", "maintenance"] and day["uptime"] == 0.5


def test_services_history__text_table_and_share(capsys, store):
    _record(store, "michigan", [(3, UP), (2, UP), (1, DOWN)])
    code, out, _ = run(capsys, "services", "history", "michigan")
    assert code == 0 and "uptime: 66.7% of 3 check(s)" in out and "health of michigan" in out


def test_services_history__never_checked_has_no_uptime(capsys, store):
    doc = json.loads(run(capsys, "services", "history", "topmed", "--json")[1])
    assert doc["name"] == "topmed" and doc["checks"] == [] and doc["uptime"] is None


def test_services_history__unknown_service_exits_3_and_bad_days_exit_2(capsys, store):
    code, out, err = run(capsys, "services", "history", "nosuch", "--json")
    assert code == 3 and out == "" and "unknown service 'nosuch'" in err
    code, out, err = run(capsys, "services", "history", "michigan", "--days", "0")
    assert code == 2 and out == "" and "--days must be 1 or more (got 0)" in err


def test_services_history__details_are_not_console_markup(capsys, store):
    store.record_health(HealthRecord(service="michigan", status=DOWN, detail="[bold red]502[/bold red] from proxy"))
    code, out, _ = run(capsys, "services", "history", "michigan")
    assert code == 0 and "[bold red]502[/bold red] from proxy" in out
