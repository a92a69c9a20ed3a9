"""A Cloudgene simulator whose jobs have four chunks and move only when a test advances them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fedimpute.hub import Hub
from tests.cloudgene_server.fixtures import ALICE_TOKEN, sim_hub
from tests.cloudgene_server.server import serve_in_thread
from tests.cloudgene_server.state import CloudgeneSim
from tests.vcfgen import write_vcf

CHUNKS = 4


@pytest.fixture
def chunked_sim(tmp_path) -> CloudgeneSim:
    """Uploads are discarded and every job runs on a stand-in chromosome 20 of four 20 Mb chunks; a phase
    lasts an hour, so nothing moves unless the test calls ``advance``."""
    sim = CloudgeneSim(workdir=tmp_path / "sim", keep_uploads=False, synthetic_chunks=CHUNKS, step_seconds=3600)
    sim.add_user("alice", ALICE_TOKEN)
    return sim


@pytest.fixture
def chunked_hub(home, chunked_sim) -> Iterator[Hub]:
    with serve_in_thread(chunked_sim) as handle:
        yield sim_hub(handle.url)


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "c.vcf.gz")
