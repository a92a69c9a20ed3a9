"""The adapter contract: behaviour every protocol adapter shows against a real or faithful server.

A test module for an adapter subclasses :class:`AdapterContract` (its name must start
with ``Test``) and provides these fixtures:

``adapter``          an adapter instance with a valid token, ready to use
``bad_adapter``      the same service with a wrong token
``job_inputs``       ``(files, SubmitOptions)`` for a short job that completes
``slow_job_inputs``  ``(files, SubmitOptions)`` for a job that runs long enough to be cancelled
``missing_id``       a syntactically valid remote id the server does not know
``finish_timeout``   seconds a short job may take (default 60)
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from fedimpute.exceptions import AuthenticationError, RemoteNotFoundError
from fedimpute.models import HealthStatus, JobStatus
from fedimpute.services.base import ImputationService, RemoteJob

__all__ = ["AdapterContract", "poll_until"]


async def poll_until(adapter: ImputationService, remote_id: str, done, *, timeout: float = 60,
                     interval: float = 0.2) -> RemoteJob:
    """Poll ``get_job`` until ``done(job)`` or the timeout (then the last job is returned)."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        job = await adapter.get_job(remote_id, previous=previous)
        previous = job.status
        if done(job) or time.monotonic() > deadline:
            return job
        await asyncio.sleep(interval)


class AdapterContract:
    finish_timeout = 60.0

    async def test_contract__health_is_up(self, adapter):
        assert (await adapter.health()).status is HealthStatus.UP

    async def test_contract__submit_follow_download(self, adapter, job_inputs, tmp_path):
        files, options = job_inputs
        remote_id = await adapter.submit(files, options, job_name="contract-short")
        assert isinstance(remote_id, str) and remote_id
        job = await poll_until(adapter, remote_id, lambda j: j.status.is_terminal, timeout=self.finish_timeout)
        assert job.status is JobStatus.COMPLETED, (job.remote_state, job.error)
        assert job.remote_id == remote_id and job.outputs
        got = await adapter.download(job.outputs[0], tmp_path / "out")
        assert got.path.is_file() and got.path.is_relative_to(tmp_path / "out")
        assert got.sha256 == hashlib.sha256(got.path.read_bytes()).hexdigest() and got.size == got.path.stat().st_size

    async def test_contract__cancel(self, adapter, slow_job_inputs):
        if not adapter.can_cancel:
            pytest.skip(f"{adapter.protocol} declares it cannot cancel")
        files, options = slow_job_inputs
        remote_id = await adapter.submit(files, options, job_name="contract-slow")
        await poll_until(adapter, remote_id, lambda j: j.status is JobStatus.RUNNING, timeout=30)
        await adapter.cancel(remote_id)
        job = await poll_until(adapter, remote_id, lambda j: j.status.is_terminal, timeout=60)
        assert job.status is JobStatus.CANCELLED, job.remote_state

    async def test_contract__unknown_job_is_not_found(self, adapter, missing_id):
        with pytest.raises(RemoteNotFoundError, match="not found"):
            await adapter.get_job(missing_id)

    async def test_contract__bad_token_says_login(self, bad_adapter, job_inputs):
        files, options = job_inputs
        with pytest.raises(AuthenticationError, match=f"fedimpute login {bad_adapter.name}"):
            await bad_adapter.submit(files, options, job_name="contract-denied")

    async def test_contract__listed_jobs_include_a_new_one(self, adapter, job_inputs):
        if not adapter.lists_jobs:
            pytest.skip(f"{adapter.protocol} declares it cannot list jobs")
        files, options = job_inputs
        remote_id = await adapter.submit(files, options, job_name="contract-list")
        assert remote_id in {j.remote_id for j in await adapter.list_jobs()}
