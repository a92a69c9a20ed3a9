"""The Cloudgene adapter passes the adapter contract against the local simulator."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from fedimpute.models import Protocol, ServiceConfig
from fedimpute.services.base import SubmitOptions
from fedimpute.services.cloudgene import CloudgeneService
from tests.cloudgene_server.fixtures import ALICE_TOKEN
from tests.services.contract import AdapterContract
from tests.vcfgen import write_vcf


@pytest.fixture
def config(cloudgene_url):
    return ServiceConfig(name="sim", protocol=Protocol.CLOUDGENE, url=cloudgene_url)


@pytest.fixture
async def adapter(config, cloudgene_sim):
    cloudgene_sim.max_running_per_user = 10
    async with httpx.AsyncClient() as client:
        yield CloudgeneService(config, client, SecretStr(ALICE_TOKEN))


@pytest.fixture
async def bad_adapter(config):
    async with httpx.AsyncClient() as client:
        yield CloudgeneService(config, client, SecretStr("wrong-token-000000"))


@pytest.fixture
def job_inputs(tmp_path):
    return [write_vcf(tmp_path / "c.vcf.gz")], SubmitOptions(panel="hapmap-2", build="hg19")


@pytest.fixture
def slow_job_inputs(job_inputs, cloudgene_sim):
    cloudgene_sim.step_seconds = 20
    return job_inputs


@pytest.fixture
def missing_id():
    return "job-20200101-000000-000"


class TestCloudgeneContract(AdapterContract):
    pass
