"""What the panel browser shows: search, one panel in detail, several side by side.

A panel is named by its id across services (``1000g-phase-3-v5`` offered by two servers is one
panel offered twice); its detail lists every service's entry, and the user's jobs that used it with
their mean R² over variants with MAF ≥ 5% (the quality document's last bin), where their results
are downloaded.  Reads touch no parameter, so a served page runs them in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fedimpute.exceptions import FedImputeError
from fedimpute.models import Job, ReferencePanel
from fedimpute.store import Store

__all__ = ["COMPARED", "PanelJob", "compare_panels", "common_r2", "detail_rows", "matches", "panel_jobs"]

#: What a comparison lines up, in order.
COMPARED = ("name", "build", "populations", "samples", "variants", "services")
JOB_LIMIT = 20  # the newest jobs shown per panel
QUALITY_LIMIT = 10  # of which at most this many have their quality read (a scan of the results)
_COMMON = 0.05  # the quality document's last MAF bin, [0.05, 0.5]
_R2_CACHE: dict[str, tuple[float | None, str]] = {}  # job id -> (mean R², note); results do not change
_R2_LOCK = threading.Lock()


@dataclass(frozen=True)
class PanelJob:
    job_id: str
    name: str
    service: str
    status: str
    created_at: str
    r2_common: float | None
    note: str


def matches(panel: ReferencePanel, term: str) -> bool:
    """Whether ``term`` (any case) is part of the panel's id, name or service ('' matches all)."""
    term = term.strip().lower()
    return not term or any(term in (value or "").lower() for value in (panel.panel_id, panel.name, panel.service))


def _number(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _populations(panel: ReferencePanel) -> str:
    return ", ".join(f"{p.label} ({p.id})" if p.label != p.id else p.id for p in panel.populations) or "none listed"


def detail_rows(entries: Sequence[ReferencePanel]) -> pd.DataFrame:
    """One row per service offering the panel (services can differ in name, size and populations)."""
    return pd.DataFrame([[p.service, p.name, p.build or "unknown", _populations(p), _number(p.samples),
                          _number(p.variants)] for p in entries],
                        columns=["service", "name", "build", "populations", "samples", "variants"])


def _values(entries: Sequence[ReferencePanel]) -> dict[str, str]:
    """Each attribute as one text; where the services offering the panel disagree, each one's value."""
    entries = sorted(entries, key=lambda p: p.service)

    def joined(values: list[str]) -> str:
        if len(set(values)) == 1:
            return values[0]
        return "; ".join(f"{p.service}: {v}" for p, v in zip(entries, values, strict=True))

    return {"name": joined([p.name for p in entries]), "build": joined([p.build or "unknown" for p in entries]),
            "populations": ", ".join(sorted({p.id for e in entries for p in e.populations})) or "none listed",
            "samples": joined([_number(p.samples) for p in entries]),
            "variants": joined([_number(p.variants) for p in entries]),
            "services": ", ".join(p.service for p in entries)}


def compare_panels(panels: Sequence[ReferencePanel], ids: Sequence[str]) -> pd.DataFrame:
    """``attribute``, one column per panel id, and ``differs`` ("yes" where the panels disagree); for
    populations, what only some of them offer."""
    chosen = [i for i in dict.fromkeys(ids) if any(p.panel_id == i for p in panels)]
    values = {i: _values([p for p in panels if p.panel_id == i]) for i in chosen}
    rows = []
    for attribute in COMPARED:
        cells = [values[i][attribute] for i in chosen]
        rows.append([attribute, *cells, "yes" if len(set(cells)) > 1 else ""])
    pops = {i: {p.id for e in panels if e.panel_id == i for p in e.populations} for i in chosen}
    for i in chosen:
        only = pops[i] - set().union(*(pops[j] for j in chosen if j != i))
        if only and len(chosen) > 1:
            rows.append([f"populations only in {i}", *[", ".join(sorted(only)) if j == i else "" for j in chosen],
                         "yes"])
    return pd.DataFrame(rows, columns=["attribute", *chosen, "differs"])


def panel_jobs(store: Store, owner: str | None, panel_id: str, services: Sequence[str]) -> list[Job]:
    """The newest jobs of ``owner`` (every owner's for None) that used ``panel_id`` on one of ``services``."""
    if not services:
        return []
    where = "panel = ? AND service IN (" + ", ".join(["?"] * len(services)) + ")"
    params: list[Any] = [panel_id, *services]
    if owner is not None:
        where += " AND owner = ?"
        params.append(owner)
    with store.session():  # the ids, then each job, on one connection
        with store.read() as con:
            ids = [r[0] for r in con.execute(f"SELECT job_id FROM jobs WHERE {where} ORDER BY created_at DESC "
                                             f"LIMIT {JOB_LIMIT}", params).fetchall()]
        return [store.get_job(i) for i in ids]


def common_r2(store: Store, job: Job) -> tuple[float | None, str]:
    """The job's mean R² over variants with MAF ≥ 5% from its downloaded results, or why there is none."""
    if job.status.value != "completed":
        return None, f"job {job.status.value}"
    with _R2_LOCK:
        if job.job_id in _R2_CACHE:
            return _R2_CACHE[job.job_id]
    from fedimpute.quality import job_quality

    try:
        bins = job_quality(store, job.job_id)["bins"]
    except FedImputeError:
        return None, "results not downloaded"
    common = next((b for b in bins if b["maf_lo"] >= _COMMON), None)
    found = (None, "no variants with MAF ≥ 5%") if common is None or common["mean_r2"] is None else \
        (float(common["mean_r2"]), f"{common['n']:,} variants")
    with _R2_LOCK:
        _R2_CACHE[job.job_id] = found
    return found


def read_panel_jobs(store: Store, owner: str | None, panel_id: str, services: Sequence[str]) -> list[PanelJob]:
    """:func:`panel_jobs` with each one's common-variant R² (the newest :data:`QUALITY_LIMIT` completed ones)."""
    out, read = [], 0
    for job in panel_jobs(store, owner, panel_id, services):
        r2, note = (None, "not read (older jobs)") if read >= QUALITY_LIMIT and job.status.value == "completed" \
            else common_r2(store, job)
        read += job.status.value == "completed"
        out.append(PanelJob(job.job_id, job.name or "", job.service, job.status.value,
                            f"{job.created_at:%Y-%m-%d %H:%M}", r2, note))
    return out
