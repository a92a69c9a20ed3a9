"""The DNAstack Workbench adapter passes the adapter contract against the fake Workbench.

The service is configured the way a user would: only the workflow name and the cloud folder
holding the inputs; namespace, engine and workflow version are discovered.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import SecretStr

from fedimpute.models import Protocol, ServiceConfig
from fedimpute.services.base import SubmitOptions
from fedimpute.services.dnastack import DnastackService
from tests.dnastack_fake.fixtures import ALICE_TOKEN, WORKFLOW, dnastack_fake, dnastack_url  # noqa: F401
from tests.services.contract import AdapterContract
from tests.vcfgen import write_vcf


@pytest.fixture
def config(dnastack_url):
    return ServiceConfig(name="wb", protocol=Protocol.DNASTACK, url=dnastack_url,
                         settings={"workflow_name": WORKFLOW, "input_prefix": "gs://fake-bucket/cohort"})


@pytest.fixture
async def adapter(config):
    async with httpx.AsyncClient() as client:
        yield DnastackService(config, client, SecretStr(ALICE_TOKEN))


@pytest.fixture
async def bad_adapter(config):
    async with httpx.AsyncClient() as client:
        yield DnastackService(config, client, SecretStr("wrong-token-000000"))


@pytest.fixture
def job_inputs(tmp_path):
    return [write_vcf(tmp_path / "c.vcf.gz")], SubmitOptions(panel="hapmap-2", build="hg19")


@pytest.fixture
def slow_job_inputs(job_inputs, dnastack_fake):
    dnastack_fake.running_seconds = 60
    return job_inputs


@pytest.fixture
def missing_id():
    return str(uuid.uuid4())


class TestDnastackContract(AdapterContract):
    finish_timeout = 20.0
