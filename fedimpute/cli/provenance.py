"""`fedimpute provenance JOB_ID`: how a job's results were made, as an RO-Crate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedimpute.cli._common import credentials, emit_json, out, store

__all__ = ["provenance"]


def provenance(
    job_id: str,
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="A folder for the crate, or a FILE.zip (default: FEDIMPUTE_HOME/results/JOB_ID/provenance/).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print ro-crate-metadata.json.")] = False,
) -> None:
    """Write the job's provenance (RO-Crate): inputs and results with SHA-256, options, service, panel, tool
    versions, events and the quality summary; no secret.

    The files themselves are described, not copied.  Exit 3 for an unknown job."""
    from fedimpute.provenance.export import write_provenance

    document, path = write_provenance(store(), credentials(), job_id, out_path)
    if as_json:
        emit_json(document)
    else:
        out.print(f"wrote the provenance of {job_id} to {path}", markup=False)
