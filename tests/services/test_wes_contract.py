"""The WES adapter passes the adapter contract against a real sapporo server with a real CWL run."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pydantic import SecretStr

from fedimpute.models import Protocol, ServiceConfig
from fedimpute.services.base import SubmitOptions
from fedimpute.services.wes import WesService
from tests.services.contract import AdapterContract
from tests.vcfgen import write_vcf
from tests.wes_fixtures import DATA


def _config(sapporo, workflow: str) -> ServiceConfig:
    return ServiceConfig(name="wes", protocol=Protocol.WES, url=sapporo.url,
                         settings={"workflow": workflow, "panels": str(DATA / "wes" / "panels.json")})


@pytest.fixture
async def adapter(sapporo, sapporo_tokens):
    async with httpx.AsyncClient(timeout=60) as client:
        yield WesService(_config(sapporo, str(DATA / "wes" / "count.cwl")), client, SecretStr(sapporo_tokens["alice"]))


@pytest.fixture
async def bad_adapter(sapporo):
    async with httpx.AsyncClient(timeout=60) as client:
        yield WesService(_config(sapporo, str(DATA / "wes" / "count.cwl")), client, SecretStr("not-a-jwt"))


@pytest.fixture
def job_inputs(tmp_path):
    return [write_vcf(tmp_path / "c.vcf.gz", sites=30)], SubmitOptions(panel="toy-1", build="hg19")


@pytest.fixture
async def slow_job_inputs(adapter, sapporo, tmp_path):
    adapter.config = _config(sapporo, str(DATA / "wes-sleep" / "sleep.cwl"))
    return [write_vcf(tmp_path / "c.vcf.gz")], SubmitOptions(panel="toy-1", build="hg19")


@pytest.fixture
def missing_id():
    return str(uuid.UUID(int=0))


class TestWesContract(AdapterContract):
    finish_timeout = 90.0
