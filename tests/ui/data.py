"""Stores with jobs for the dashboard tests: two users, the local service, hostile service text."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["XSS_IMG", "XSS_SCRIPT", "Owners", "add_local_service", "populate"]

XSS_SCRIPT = "<script>alert('xss-script')</script>"
XSS_IMG = '<img src=x onerror="alert(\'xss-img\')">'


@dataclass
class Owners:
    """Jobs of two users (and the local service with one panel) in a fresh store."""

    alice: list[str]
    bob: list[str]


def add_local_service(store, *, url: str = "http://127.0.0.1:9") -> None:
    from fedimpute.catalogue import make_service
    from fedimpute.models import Population, ReferencePanel

    store.add_service(make_service("local", "local", url, description="test engine", location="this machine"),
                      replace=True)
    store.replace_panels("local", [
        ReferencePanel(service="local", panel_id="sim-ci", name="Simulated CI panel", build="hg38",
                       populations=[Population(id="all", label="all")], samples=200, variants=3714),
        ReferencePanel(service="local", panel_id="sim-eur", name="Simulated EUR <b>panel</b>", build="hg19",
                       populations=[Population(id="eur", label="Europeans")], samples=100, variants=1000),
    ])


def populate(store, *, alice: int = 5, bob: int = 3) -> Owners:
    """``alice`` and ``bob`` jobs on `local`; alice's first has a message with markup that must stay text."""
    from fedimpute.models import Job, JobStatus, MessageLevel, StepMessage

    add_local_service(store)
    statuses = [JobStatus.COMPLETED, JobStatus.RUNNING, JobStatus.PENDING, JobStatus.FAILED, JobStatus.QUEUED]
    ids: dict[str, list[str]] = {"alice": [], "bob": []}
    for owner, count in (("alice", alice), ("bob", bob)):
        for i in range(count):
            job = Job(service="local", owner=owner, name=f"{owner}-job-{i}", panel="sim-ci", build="hg38",
                      status=statuses[i % len(statuses)])
            store.add_job(job)
            ids[owner].append(job.job_id)
    first = ids["alice"][0]
    store.update_job(first, name=f"alice-job-0 {XSS_IMG}")
    store.add_step_messages([
        StepMessage(job_id=first, step_index=0, step="Input Validation", message_index=0, text=f"seen {XSS_SCRIPT}"),
        StepMessage(job_id=first, step_index=0, step="Input Validation", message_index=1, level=MessageLevel.ERROR,
                    text=f"and {XSS_IMG} too"),
    ])
    return Owners(alice=ids["alice"], bob=ids["bob"])
