"""Store methods for the input files of jobs, as they were when each job was recorded.

A job's provenance must cite the file that was sent, not the file at that path today (it may have
been edited, replaced or deleted since), so the facts are written once, when the job is recorded,
and never updated.  Jobs recorded before this table existed simply have no rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fedimpute.models import utcnow
from fedimpute.store._rows import dicts, to_db_time, to_json
from fedimpute.store.base import StoreBase

__all__ = ["InputStore", "JobInput"]

_COLS = ("job_id, position, path, name, size, sha256, chromosomes, samples, variants, build, verdict, checks, "
         "fedimpute_version, recorded_at")


class JobInput(BaseModel):
    """One input file of a job at submission. ``verdict`` is the pre-flight check's (``pass``, ``warn``,
    ``fail``) or ``not checked`` (``--skip-check``); ``checks`` lists the checks that did not pass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str
    position: int
    path: str
    name: str
    size: int
    sha256: str
    chromosomes: list[str] = Field(default_factory=list)
    samples: int | None = None
    variants: int | None = None
    build: str | None = None
    verdict: str
    checks: list[dict[str, Any]] = Field(default_factory=list)
    fedimpute_version: str
    recorded_at: datetime = Field(default_factory=utcnow)


class InputStore(StoreBase):
    def add_job_inputs(self, inputs: list[JobInput]) -> None:
        """Record the input facts of a job (a job's rows are written once; writing them again is a no-op)."""
        if not inputs:
            return
        with self.tx() as con:
            con.executemany(
                f"INSERT INTO job_inputs ({_COLS}) VALUES ({', '.join(['?'] * 14)}) ON CONFLICT DO NOTHING",
                [[i.job_id, i.position, i.path, i.name, i.size, i.sha256, to_json(i.chromosomes), i.samples,
                  i.variants, i.build, i.verdict, to_json(i.checks), i.fedimpute_version, to_db_time(i.recorded_at)]
                 for i in inputs])

    def job_inputs(self, job_id: str) -> list[JobInput]:
        """The input facts recorded for ``job_id``, in submission order (empty for older jobs)."""
        with self.read() as con:
            rows = dicts(con.execute(f"SELECT {_COLS} FROM job_inputs WHERE job_id = ? ORDER BY position", [job_id]),
                         json_cols=("chromosomes", "checks"))
        return [JobInput(**row) for row in rows]
