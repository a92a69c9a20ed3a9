"""Remote evidence: a QC-only job on each Cloudgene (service, panel) pair, and its QC statistics.

The jobs are ordinary fedimpute jobs (:meth:`Hub.submit` with ``mode=qc-only``): recorded before
the upload, monitored, cancellable, resumable after a crash, listed by ``fedimpute jobs``.  Once a
job ends, the numbers the server's Quality Control step logged (reference overlap, matches,
allele switches, strand flips, A/T-C/G, allele mismatches, excluded sites and chunks, typed-only
sites; wording in shared/reference/cloudgene-api.md §6.2) are read from its stored step messages.
A job that cannot be submitted, fails or does not end in time becomes a row whose reason says why;
nothing here raises for one candidate's failure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedimpute.exceptions import FedImputeError
from fedimpute.hub import Hub
from fedimpute.models import Job, JobStatus
from fedimpute.preflight import PreflightReport, run_preflight_for_submit
from fedimpute.services.base import SubmitOptions

__all__ = ["RemoteEvidence", "parse_qc_messages", "run_remote"]

#: The statistics block's keys (Cloudgene QC) and the names they get here.
_KEYS = {
    "alternative allele frequency > 0.5 sites": "alt_af_above_half", "reference overlap": "reference_overlap",
    "match": "match", "allele switch": "allele_switch", "strand flip": "strand_flip",
    "strand flip and allele switch": "strand_flip_and_allele_switch", "a/t, c/g genotypes": "atcg",
    "filter flag set": "filter_flag", "invalid alleles": "invalid_alleles", "multiallelic sites": "multiallelic",
    "duplicated sites": "duplicates", "nonsnp sites": "nonsnp", "monomorphic sites": "monomorphic",
    "allele mismatch": "allele_mismatch", "snps call rate < 90%": "low_call_rate",
    "excluded sites in total": "excluded_sites", "remaining sites in total": "remaining_sites",
    "typed only sites": "typed_only", "remaining chunk(s)": "remaining_chunks",
}
_LINE = re.compile(r"^\s*([^:]+?)\s*:\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*%?\s*$")
_CHUNKS_EXCLUDED = re.compile(r"([0-9][0-9,]*) Chunk\(s\) excluded")
_GENERIC = ("Pipeline execution failed.", "Imputation job failed.", "Pipeline execution canceled.")


@dataclass
class RemoteEvidence:
    """What one QC-only job said; ``error`` is why there are no numbers (when there are none)."""

    job_id: str | None = None
    status: str = "not submitted"
    error: str | None = None
    statistics: dict[str, float] = field(default_factory=dict)

    def count(self, key: str) -> int | None:
        value = self.statistics.get(key)
        return int(value) if value is not None else None

    @property
    def overlap(self) -> float | None:
        value = self.statistics.get("reference_overlap")
        return value / 100 if value is not None else None

    @property
    def strand_flips(self) -> int | None:
        return _sum(self.count("strand_flip"), self.count("strand_flip_and_allele_switch"))

    @property
    def allele_switches(self) -> int | None:
        return _sum(self.count("allele_switch"), self.count("strand_flip_and_allele_switch"))

    @property
    def excluded_chunks(self) -> int | None:
        return self.count("excluded_chunks")

    def to_json(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "status": self.status, "error": self.error, "statistics": self.statistics}


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def parse_qc_messages(texts: list[str]) -> dict[str, float]:
    """The QC step's numbers from its messages (HTML already stripped), keyed as in ``_KEYS``."""
    found: dict[str, float] = {}
    excluded = 0
    for text in texts:
        for line in text.splitlines():
            if m := _CHUNKS_EXCLUDED.search(line):
                excluded += int(m[1].replace(",", ""))
                continue
            if (m := _LINE.match(line)) and (key := _KEYS.get(m[1].strip().lower())):
                found[key] = float(m[2].replace(",", ""))
    if found or excluded:
        found["excluded_chunks"] = excluded
    return found


def _reason(job: Job) -> str:
    lines = [line.strip() for line in (job.error or "").splitlines() if line.strip()]
    specific = [line for line in lines if line not in _GENERIC]
    return (specific or lines or [f"the QC job {job.status.value}"])[0][:300]


async def run_remote(hub: Hub, files: list[Path], candidates: list[tuple[str, str]], *, owner: str,
                     build: str | None, population: str | None, timeout: float,
                     progress: Callable[[str], None] | None = None) -> dict[tuple[str, str], RemoteEvidence]:
    """Submit one QC-only job per (service, panel), wait for them (all run at once), parse their QC."""
    say = progress or (lambda _text: None)
    results: dict[tuple[str, str], RemoteEvidence] = {}
    reports: dict[str, PreflightReport] = {}
    jobs: dict[tuple[str, str], str] = {}
    for service, panel_id in candidates:
        evidence = results[(service, panel_id)] = RemoteEvidence()
        options = SubmitOptions(panel=panel_id, build=build, population=population, mode="qc-only",
                                name=f"advise {panel_id}")
        try:
            if service not in reports:
                reports[service] = run_preflight_for_submit(files, hub.store.get_service(service), build=build,
                                                            phasing=None)
            job = await hub.submit(files, service, options, owner=owner, reports={service: reports[service]})
        except FedImputeError as exc:
            evidence.error = f"not submitted: {str(exc).splitlines()[0][:300]}"
            say(f"{service}/{panel_id}: {evidence.error}")
            continue
        jobs[(service, panel_id)] = evidence.job_id = job.job_id
        evidence.status = job.status.value
        say(f"{service}/{panel_id}: QC-only job {job.job_id} {job.status.value}")
    deadline = time.monotonic() + timeout
    for key, job_id in jobs.items():
        await _follow(hub, results[key], job_id, max(deadline - time.monotonic(), 1.0))
        say(f"{key[0]}/{key[1]}: QC-only job {job_id} {results[key].status}")
    return results


async def _follow(hub: Hub, evidence: RemoteEvidence, job_id: str, timeout: float) -> None:
    try:
        job = await hub.wait(job_id, timeout=timeout)
    except TimeoutError:
        job = hub.store.get_job(job_id)
        evidence.status = job.status.value
        evidence.error = (f"the QC job is still {job.status.value} after {timeout:.0f} s; it goes on: "
                          f"`fedimpute jobs show {job_id}`")
        return
    except FedImputeError as exc:
        evidence.status, evidence.error = "unknown", f"could not follow the QC job: {str(exc).splitlines()[0]}"
        return
    evidence.status = job.status.value
    texts = [m.text for m in hub.store.step_messages(job_id)]
    evidence.statistics = parse_qc_messages(texts)
    if job.status is not JobStatus.COMPLETED:
        evidence.error = _reason(job)
