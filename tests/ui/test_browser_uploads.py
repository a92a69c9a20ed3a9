"""In the browser: uploads streamed to the server's disk within its limits, and gone once used.

Two served dashboards with sign-in (``panel serve``, as the lab would run it): one whose upload
limit is 1 MiB, with the Cloudgene simulator in its catalogue and a data root; one with the
default limits for a 200 MB upload, where the server's RSS is sampled with psutil.  Each test
signs in as its own user, so each looks at its own staging folder.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Page, expect

from fedimpute.catalogue import make_service
from fedimpute.credentials import Credentials
from fedimpute.store import Store
from fedimpute.upkeep import staging_dir
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.cloudgene_server.server import serve_in_thread
from tests.cloudgene_server.state import CloudgeneSim
from tests.ui.serving import login, screenshot
from tests.waiting import wait_for

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine" / "array.vcf.gz"
USERS = {"alice": "pw-alice-0123", "bob": "pw-bob-012345", "carol": "pw-carol-0123", "dave": "pw-dave-01234",
         "erin": "pw-erin-01234"}
MIB = 1 << 20


def staged(home: Path, user: str) -> list[Path]:
    root = staging_dir(home) / user
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture(scope="module")
def limited(tmp_path_factory, serve_app):
    """Upload limit 1 MiB; the simulator as service ``sim``; a data root with carol's folder."""
    data = tmp_path_factory.mktemp("data-root")
    (data / "carol" / "cohort").mkdir(parents=True)
    (data / "bob").mkdir()
    (data / "carol" / "cohort" / "chr20.vcf.gz").write_bytes(FIXTURE.read_bytes())
    (data / "bob" / "bobs.vcf.gz").write_bytes(FIXTURE.read_bytes())
    (data / "carol" / "bobs.vcf.gz").symlink_to(data / "bob" / "bobs.vcf.gz")
    sim = CloudgeneSim(workdir=tmp_path_factory.mktemp("cloudgene-sim"))
    sim.add_user("alice", ALICE_TOKEN)
    home = tmp_path_factory.mktemp("uploads-home")
    with serve_in_thread(sim) as handle:
        Store(home).add_service(make_service("sim", "cloudgene", handle.url))
        yield serve_app(home, users=USERS, FEDIMPUTE_MAX_UPLOAD_MB="1", FEDIMPUTE_DATA_ROOT=str(data))


def open_submit(page: Page, base: str, user: str) -> None:
    login(page, base, user, USERS[user])
    page.get_by_role("button", name="Submit", exact=True).first.click()
    expect(page.get_by_text("files: none yet")).to_be_visible()


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(page: Page, limited, tmp_path):
    big = tmp_path / "big.vcf.gz"
    with big.open("wb") as fh:
        fh.truncate(10 * MIB)  # 3 chunks: refused at the first, the drop area replaced
    small = tmp_path / "small.vcf.gz"
    small.write_bytes(FIXTURE.read_bytes())
    open_submit(page, limited.url, "bob")
    page.locator("input[type=file]").set_input_files(str(big))
    expect(page.get_by_text("upload of big.vcf.gz refused: it is larger than the limit per file, 1 MiB "
                            "(the server's FEDIMPUTE_MAX_UPLOAD_MB)")).to_be_visible()
    screenshot(page, "upload-refused")
    assert staged(limited.home, "bob") == []
    page.locator("input[type=file]").set_input_files(str(small))  # the new drop area takes the next file
    expect(page.get_by_text("files: small.vcf.gz")).to_be_visible()
    assert [p.name for p in staged(limited.home, "bob")] == ["small.vcf.gz"]


def test_a_plain_text_vcf_upload_works_and_goes_with_the_session(page: Page, limited, tmp_path):
    text = tmp_path / "sample.vcf"
    with gzip.open(FIXTURE, "rt") as fh:
        text.write_text(fh.read())
    open_submit(page, limited.url, "erin")
    page.locator("input[type=file]").set_input_files(str(text))
    expect(page.get_by_text("files: sample.vcf")).to_be_visible()
    [path] = staged(limited.home, "erin")
    assert path.read_bytes() == text.read_bytes()
    page.close()  # the session ends: Bokeh discards it within about half a minute, and the upload goes
    wait_for(lambda: staged(limited.home, "erin") == [], 90, "erin's staging to be emptied")


def test_the_data_folder_offers_only_the_users_own_files(page: Page, limited):
    open_submit(page, limited.url, "carol")
    picker = page.get_by_role("listbox", name="Files in your data folder on the server")
    expect(picker.locator("option")).to_have_text(["cohort/chr20.vcf.gz"])  # the link to bob's is left out
    picker.select_option("cohort/chr20.vcf.gz")
    page.get_by_role("button", name="Add the selected files").click()
    expect(page.get_by_text("files: chr20.vcf.gz")).to_be_visible()
    assert staged(limited.home, "carol") == []  # used where it is, never copied


def choose_service(page: Page, name: str) -> None:
    """Pick ``name`` in the services MultiChoice (a Choices.js list)."""
    page.locator(".choices__input--cloned").first.click()
    page.locator(".choices__item--choice", has_text=name).first.click()
    page.keyboard.press("Escape")


def test_staging_is_empty_after_submission(page: Page, limited):
    Credentials(limited.home).set_token("sim", ALICE_TOKEN, user="alice")
    open_submit(page, limited.url, "alice")
    expect(page.get_by_role("listbox")).to_have_count(0)  # alice has no data folder: no picker
    choose_service(page, "sim")
    page.get_by_role("combobox", name="Build").select_option("hg38")  # the fixture's build
    page.locator("input[type=file]").set_input_files(str(FIXTURE))
    expect(page.get_by_text("pre-flight passed")).to_be_visible()
    assert [p.name for p in staged(limited.home, "alice")] == ["array.vcf.gz"]
    expect(page.get_by_text("I have read and accept these terms")).to_be_visible()
    page.locator("input[type=checkbox]").check()  # the only box: the terms
    submit = page.get_by_role("button", name="Submit", exact=True).last
    expect(submit).to_be_enabled()
    submit.click()
    expect(page.get_by_text("jobs 1–1 of 1")).to_be_visible()  # the form hands over to the jobs view
    [job] = Store(limited.home).list_jobs(owner="alice")
    assert job.remote_id and job.inputs and staged(limited.home, "alice") == []


@pytest.fixture(scope="module")
def default_limits(tmp_path_factory, serve_app):
    return serve_app(tmp_path_factory.mktemp("uploads-rss-home"), users=USERS)


class PeakRss:
    """The process's peak RSS since :meth:`reset`, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.process, self.peak, self.base = psutil.Process(pid), 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def reset(self) -> None:
        self.base = self.peak = self.process.memory_info().rss

    def __enter__(self) -> PeakRss:
        self.reset()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.base) / MIB


def upload_and_wait(page: Page, home: Path, user: str, path: Path) -> None:
    page.locator("input[type=file]").set_input_files(str(path))
    size = path.stat().st_size
    wait_for(lambda: any(p.name == path.name and p.stat().st_size == size for p in staged(home, user)), 300,
             f"{path.name} to be staged")


def test_a_200_mb_upload_keeps_server_rss_growth_under_64_mib(page: Page, default_limits, tmp_path):
    small, big = tmp_path / "warm-up.bin", tmp_path / "big.bin"
    small.write_bytes(os.urandom(MIB))
    with big.open("wb") as fh:
        fh.truncate(200 * MIB)
    open_submit(page, default_limits.url, "dave")
    with PeakRss(default_limits.proc.pid) as rss:
        upload_and_wait(page, default_limits.home, "dave", small)  # code paths warm
        rss.reset()
        upload_and_wait(page, default_limits.home, "dave", big)
    assert rss.growth_mib < 64, f"server RSS grew by {rss.growth_mib:.1f} MiB for a 200 MB upload"
    [staged_big] = [p for p in staged(default_limits.home, "dave") if p.name == "big.bin"]
    assert staged_big.stat().st_size == 200 * MIB
