"""The monitor with a real sapporo WES server: an outage (refused connections, 5xx from a proxy)
never fails a job; the run is followed to the end once the server answers again."""

from __future__ import annotations

import asyncio

import httpx

from fedimpute.catalogue import make_service
from fedimpute.engine.sapporo import free_port
from fedimpute.hub import Hub
from fedimpute.models import JobStatus
from fedimpute.monitor import Monitor
from fedimpute.services.base import SubmitOptions
from tests.vcfgen import write_vcf
from tests.wes_fixtures import DATA


def _service(url: str):
    return make_service("w", "wes", url, settings=[f"workflow={DATA / 'wes' / 'count.cwl'}",
                                                   f"panels={DATA / 'wes' / 'panels.json'}", "poll_interval=0"])


async def test_wes_outage__job_survives_and_completes(home, sapporo, sapporo_tokens, tmp_path):
    hub = Hub()
    hub.store.add_service(_service(sapporo.url))
    hub.credentials.set_token("w", sapporo_tokens["alice"])
    job = await hub.submit([write_vcf(tmp_path / "c.vcf.gz")], "w", SubmitOptions(panel="toy-1"), owner="t")

    hub.store.add_service(_service(f"http://127.0.0.1:{free_port()}/ga4gh/wes/v1"), replace=True)  # outage
    monitor = Monitor(hub)
    result = await monitor.sweep(force=True)
    assert result.errors == 1 and "could not reach the service" in result.messages[0]
    assert hub.store.get_job(job.job_id).status is not JobStatus.FAILED
    assert hub.store.health_of("w").status.value == "down"

    def bad_gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>")

    hub_502 = Hub(hub.store, hub.credentials, client_factory=lambda s: httpx.AsyncClient(
        transport=httpx.MockTransport(bad_gateway)))
    result = await Monitor(hub_502).sweep(force=True)
    assert result.errors == 1 and hub.store.get_job(job.job_id).status is not JobStatus.FAILED

    hub.store.add_service(_service(sapporo.url), replace=True)  # the server is back
    monitor = Monitor(hub)
    for _ in range(300):
        await monitor.sweep(force=True)
        if hub.store.get_job(job.job_id).status.is_terminal:
            break
        await asyncio.sleep(0.3)
    done = hub.store.get_job(job.job_id)
    assert done.status is JobStatus.COMPLETED, done.error
    assert {r.name for r in hub.store.result_files(job.job_id)} == {"counts.tsv", "panel.txt"}
