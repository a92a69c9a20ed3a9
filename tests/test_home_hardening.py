"""The home keeps genotype results, every user's jobs and the service tokens: it is 0700, the job store
and the secrets 0600, secrets are written through exclusive 0600 temporary files, no token lands in any
other file, and another user's job reads exactly like one that does not exist."""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fedimpute import paths
from fedimpute.credentials import Credentials
from fedimpute.exceptions import JobNotFoundError, UsageError
from fedimpute.job_views import visible_job
from fedimpute.models import Job
from fedimpute.paths import check_home_private, home_dir, write_private
from fedimpute.services.base import SubmitOptions
from fedimpute.store import Store
from fedimpute.ui.state import HubState
from tests.cloudgene_server.fixtures import ALICE_TOKEN, sim_hub
from tests.vcfgen import write_vcf


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def test_new_home__0700_whatever_the_umask(tmp_path):
    with umask(0):
        home = home_dir(tmp_path / "a" / "home")
    assert mode(home) == 0o700


def test_open_home__warned_once_per_process(tmp_path, caplog):
    open_home = tmp_path / "open"
    open_home.mkdir(mode=0o755)
    open_home.chmod(0o755)
    caplog.set_level(logging.WARNING, logger="fedimpute.paths")
    home_dir(open_home)
    home_dir(open_home)
    warnings = [r.getMessage() for r in caplog.records if r.name == "fedimpute.paths"]
    assert len(warnings) == 1 and f"chmod 700 {open_home}" in warnings[0] and "755" in warnings[0]
    assert mode(open_home) == 0o755  # warned about, not changed behind the user's back


@pytest.mark.parametrize(("bits", "refused"), [(0o700, False), (0o750, False), (0o770, True), (0o702, True)])
def test_check_home_private__refuses_a_home_others_can_write(tmp_path, bits, refused):
    home = tmp_path / "h"
    home.mkdir()
    home.chmod(bits)
    if refused:
        with pytest.raises(UsageError, match=f"run `chmod 700 {home}`"):
            check_home_private(home)
    else:
        check_home_private(home)
    with pytest.raises(UsageError, match="does not exist"):
        check_home_private(tmp_path / "missing")


def test_duckdb_file_and_its_log__0600(home):
    with umask(0o022):
        store = Store(home)
        db = home / "fedimpute.duckdb"
        wal = home / "fedimpute.duckdb.wal"
        assert mode(db) == 0o600
        with store.session():
            store.add_job(Job(service="local", owner="alice"))
            assert wal.exists() and mode(wal) == 0o600  # the log of the write, made by DuckDB with the umask
        db.chmod(0o644)  # a home made by an older version
        store.list_jobs()
        assert mode(db) == 0o600


def test_secrets_file__0600_and_no_temporary_file_left(home):
    with umask(0):
        Credentials(home).set_token("sim", "some-token-1234", user="alice")
    secrets_file = home / "secrets.json"
    assert mode(secrets_file) == 0o600
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []


def test_stale_secrets_tmp__deleted_unread(home, caplog):
    stale = home_dir(home) / "secrets.tmp"
    stale.write_text('{"token/sim": "leaked-token-1234"}')
    stale.chmod(0o644)
    creds = Credentials(home)
    assert not stale.exists() and creds.token("sim") is None
    assert "removed" in caplog.text and "leaked-token-1234" not in caplog.text


def test_write_private__exclusive_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "cookie-secret"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, "new secret")
    assert target.read_text() == "new secret" and mode(target) == 0o600
    planted = tmp_path / "elsewhere"
    planted.write_text("not to be touched")
    monkeypatch.setattr(paths.secrets, "token_hex", lambda n: "fixed")
    (tmp_path / ".cookie-secret.fixed.tmp").symlink_to(planted)  # a link where the temporary file goes
    with pytest.raises(FileExistsError):
        write_private(target, "through the link?")
    assert planted.read_text() == "not to be touched" and target.read_text() == "new secret"


def test_secrets__writers_at_once_lose_nothing(home):
    """Users saving their tokens at the same moment (a served dashboard) each keep theirs."""
    def save(prefix: str) -> None:
        creds = Credentials(home)
        for i in range(15):
            creds.set_token("sim", f"{prefix}-token-{i:04d}", user=f"{prefix}{i}")

    threads = [threading.Thread(target=save, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    creds = Credentials(home)
    assert all(creds.token("sim", f"{p}{i}").get_secret_value() == f"{p}-token-{i:04d}"
               for p in "abc" for i in range(15))
    assert len(creds.token_users("sim")) == 45


async def test_no_token_or_password_in_any_file_of_the_home_but_the_secrets(home, cloudgene_url, cloudgene_sim,
                                                                           tmp_path):
    hub = sim_hub(cloudgene_url)
    job = await hub.submit([write_vcf(tmp_path / "c.vcf.gz")], "sim", SubmitOptions(panel="hapmap-2", build="hg19"),
                           owner="tester")
    cloudgene_sim.run_to_end()
    assert (await hub.wait(job.job_id, timeout=60, interval=0.05)).status.value == "completed"
    assert await hub.download_results(job.job_id)
    password = hub.credentials.password(job.job_id).get_secret_value()
    holders = []
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if ALICE_TOKEN.encode() in data or password.encode() in data:
                holders.append(path)
    assert holders == [home / "secrets.json"] and mode(home / "secrets.json") == 0o600
    assert mode(home) == 0o700 and mode(home / "fedimpute.duckdb") == 0o600


def test_unknown_job__reads_the_same_for_another_users_job_and_a_missing_one(store):
    bobs = store.add_job(Job(service="local", owner="bob"))
    missing = "fi-20990101-000000-abcdef"

    def said(lookup, job_id: str) -> str:
        with pytest.raises(JobNotFoundError) as caught:
            lookup(job_id)
        return str(caught.value).replace(job_id, "ID")

    as_alice = HubState.from_home(store.home, user="alice")
    for lookup in (lambda j: visible_job(store, j, user="alice"), as_alice.get_job):
        assert said(lookup, bobs.job_id) == said(lookup, missing)
    assert said(as_alice.get_job, bobs.job_id) == said(store.get_job, missing)  # the CLI's words too
    assert visible_job(store, bobs.job_id, user="carol", admin=True).owner == "bob"
