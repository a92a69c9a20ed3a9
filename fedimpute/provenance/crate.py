"""A job's provenance as an RO-Crate (``ro-crate-metadata.json``), in the Process Run Crate profile.

Profile: Process Run Crate 0.6 (https://w3id.org/ro/wfrun/process/0.6, RO-Crate 1.3) of the Workflow
Run RO-Crate family.  The job is one ``CreateAction`` (``#run-<job_id>``) whose ``instrument`` is the
service's imputation application (its tools with their versions are its ``hasPart``), whose ``object``
is the input files, the reference panel and one ``PropertyValue`` per submission option, and whose
``result`` is the result files; ``agent`` is the job's owner.  A second ``CreateAction``
(``#quality-summary``) is fedimpute's quality summary of the downloaded results, written into the
crate as ``quality.json``.  Status changes are ``UpdateAction`` entities on the run, and the service's
step messages are ``CreativeWork`` logs listed as the run's ``subjectOf``.  The richer Workflow Run
Crate profile needs the workflow itself as the crate's main entity, which a remote service does not
hand out, so the process profile is the one every job fits.

Input and result files are described, never copied (genotype data stays where it is, and results can
be many gigabytes): their ``@id`` is a local identifier (``#input-1``, ``#result-chr20.dose.vcf.gz``),
which RO-Crate 1.2+ provides for files deliberately not in the crate, with ``sha256`` and
``contentSize`` to check a copy against, and ``localPath`` for where fedimpute kept them (left out for
crates a served dashboard hands out: its pages never show server paths).
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from itertools import groupby
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

from fedimpute.models import JobStatus, utcnow
from fedimpute.provenance.collect import JobProvenance, panel_version
from fedimpute.provenance.tools import ToolVersion

__all__ = ["PROCESS_RUN_CRATE", "QUALITY_FILE", "build_crate", "safe_url"]

PROCESS_RUN_CRATE = "https://w3id.org/ro/wfrun/process/0.6"
QUALITY_FILE = "quality.json"
_SCHEMA = "http://schema.org/"
_ACTION_STATUS = {JobStatus.COMPLETED: "CompletedActionStatus", JobStatus.FAILED: "FailedActionStatus",
                  JobStatus.CANCELLED: "FailedActionStatus", JobStatus.RUNNING: "ActiveActionStatus",
                  JobStatus.QUEUED: "ActiveActionStatus", JobStatus.PENDING: "PotentialActionStatus"}
_MEDIA = ((".zip", "application/zip"), (".gz", "application/gzip"), (".json", "application/json"),
          (".html", "text/html"), (".txt", "text/plain"), (".log", "text/plain"), (".md5", "text/plain"),
          (".csv", "text/csv"), (".tbi", "application/octet-stream"), (".csi", "application/octet-stream"))
Ref = dict[str, str]


def safe_url(url: str | None) -> str | None:
    """``url`` without user info, query or fragment: where a service is, never a credential in a link."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _slug(text: str) -> str:
    """``text`` as part of a local identifier (a URI fragment: ``/`` may stay, as in result paths)."""
    return quote(text, safe="/._-")


def _media(name: str) -> str | None:
    return next((media for suffix, media in _MEDIA if name.lower().endswith(suffix)), None)


def _ref(entity_id: str) -> Ref:
    return {"@id": entity_id}


def _quality_line(quality: dict[str, Any]) -> str:
    bins = quality.get("bins") or []
    common = bins[-1].get("mean_r2") if bins else None
    line = f"{quality.get('variants', 0):,} variants with an R²"
    return line + (f"; mean R² {common:.3f} for MAF ≥ 5%" if isinstance(common, int | float) else "")


class _Builder:
    """Adds the entities of one job's crate; every entity is flat (RO-Crate's JSON-LD is flattened)."""

    def __init__(self, prov: JobProvenance, *, include_paths: bool) -> None:
        self.prov, self.paths = prov, include_paths
        self.crate = ROCrate()
        self.run_id = f"#run-{_slug(prov.job.job_id)}"

    def add(self, entity_id: str, entity_type: str | list[str], **props: Any) -> ContextEntity:
        clean = {k: v for k, v in props.items() if v is not None and v != [] and v != ""}
        return self.crate.add(ContextEntity(self.crate, entity_id, properties={"@type": entity_type, **clean}))

    def facts(self, owner_id: str, items: dict[str, Any]) -> list[ContextEntity]:
        """One ``PropertyValue`` per known fact, for an entity's ``additionalProperty``."""
        return [self.add(f"{owner_id}-{_slug(key)}", "PropertyValue", name=key, value=value)
                for key, value in items.items() if value is not None and value != [] and value != ""]

    # -- the parts ------------------------------------------------------------------------

    def fedimpute(self) -> ContextEntity:
        from fedimpute import __version__

        sent_by = {i.fedimpute_version for i in self.prov.inputs} - {__version__}
        note = f"; the job was recorded by fedimpute {', '.join(sorted(sent_by))}" if sent_by else ""
        return self.add("#fedimpute", "SoftwareApplication", name="fedimpute", softwareVersion=__version__,
                        description=f"The hub that submitted the job, followed it and wrote this crate{note}.")

    def tool(self, tool: ToolVersion) -> ContextEntity:
        said = f': "{tool.said}"' if tool.said and tool.said != tool.version else ""
        return self.add(f"#tool-{_slug(tool.name)}", "SoftwareApplication", name=tool.name,
                        softwareVersion=tool.version, description=f"named by the {tool.source}{said}")

    def application(self) -> ContextEntity:
        """The service's imputation application, with the tools it ran (as named by a source) as parts."""
        prov, service = self.prov, self.prov.service
        tools = [self.tool(t) for t in prov.tools]
        name = prov.job.service
        if service is None:
            return self.add(f"#service-{_slug(name)}", "SoftwareApplication", name=name, hasPart=tools,
                            description="a service no longer in the catalogue, or a fan-out over several")
        version, title = prov.app_version, service.app or f"{name} imputation"
        if service.protocol == "local" or service.settings.get("workflow") == "impute":
            title = "fedimpute imputation workflow (impute.cwl)"
            version = version or next((i.fedimpute_version for i in prov.inputs), None)  # shipped with fedimpute
        health = prov.health
        reported = (f" The service last reported (at {_iso(health.checked_at)}): {health.detail}."
                    if health and health.detail else "")
        return self.add(
            f"#service-{_slug(name)}", "SoftwareApplication", name=title,
            alternateName=name, identifier=service.app, url=safe_url(service.url), softwareVersion=version,
            applicationCategory=f"{service.protocol} imputation service", hasPart=tools,
            description=(f"{service.description or name} ({service.protocol}"
                         f"{', ' + service.location if service.location else ''}).{reported}"))

    def panel(self) -> ContextEntity | None:
        job, panel = self.prov.job, self.prov.panel
        if not job.panel:
            return None
        panel_id = f"#panel-{_slug(job.service)}-{_slug(job.panel)}"
        props = self.facts(panel_id, {
            "build": panel.build if panel and panel.build else job.build,
            "populations": [p.id for p in panel.populations] if panel else None,
            "samples": panel.samples if panel else None, "variants": panel.variants if panel else None})
        return self.add(panel_id, "Dataset", name=panel.name if panel else job.panel, identifier=job.panel,
                        version=panel_version(panel), additionalProperty=props,
                        description="the reference panel, as the service lists it" if panel else
                        "the reference panel (not in fedimpute's panel cache: run `fedimpute panels`)")

    def options(self) -> list[ContextEntity]:
        job = self.prov.job
        chosen = {"panel": job.panel, "build": job.build, "population": job.population, "name": job.name,
                  **job.options}
        return [self.add(f"#option-{_slug(k)}", "PropertyValue", name=k, value=v)
                for k, v in chosen.items() if v is not None]

    def inputs(self) -> list[ContextEntity]:
        if not self.prov.inputs_recorded:
            return [self.add(f"#input-{n}", "File", name=path.rsplit("/", 1)[-1],
                             localPath=path if self.paths else None,
                             description="recorded before fedimpute kept input facts: no size or checksum")
                    for n, path in enumerate(self.prov.job.inputs, start=1)]
        out = []
        for i in self.prov.inputs:
            input_id = f"#input-{i.position + 1}"
            checks = "; ".join(f"{c['id']} {c['status']}: {c['message']}" for c in i.checks)
            props = self.facts(input_id, {"chromosomes": i.chromosomes, "samples": i.samples,
                                          "variants": i.variants, "build": i.build, "preflight": i.verdict,
                                          "recorded_at": _iso(i.recorded_at)})
            out.append(self.add(
                input_id, "File", name=i.name, contentSize=str(i.size), sha256=i.sha256,
                encodingFormat=_media(i.name), localPath=i.path if self.paths else None, additionalProperty=props,
                description=f"input as submitted; pre-flight check: {i.verdict}" + (f" ({checks})" if checks else "")))
        return out

    def results(self) -> list[ContextEntity]:
        return [self.add(
            f"#result-{_slug(r.name)}", "File", name=r.name, contentSize=None if r.size is None else str(r.size),
            sha256=r.sha256, encodingFormat=_media(r.name), localPath=r.path if self.paths else None,
            description=(f"downloaded and verified at {_iso(r.downloaded_at)}" if r.downloaded_at else
                         "listed by the service; not downloaded")) for r in self.prov.results]

    def events(self) -> list[ContextEntity]:
        return [self.add(f"#event-{n}", "UpdateAction", name=f"{e.old_status.value if e.old_status else 'new'} → "
                         f"{e.status.value}", startTime=_iso(e.time), endTime=_iso(e.time), description=e.detail,
                         object=_ref(self.run_id), actionStatus=_ref(_SCHEMA + "CompletedActionStatus"))
                for n, e in enumerate(self.prov.events, start=1)]

    def steps(self) -> list[ContextEntity]:
        grouped = groupby(self.prov.steps, key=lambda m: (m.step_index, m.step))
        return [self.add(f"#step-{index + 1}", "CreativeWork", name=step, about=_ref(self.run_id),
                         text="\n".join(f"[{m.level.value}] {m.text}" for m in messages),
                         description="the service's messages for this step")
                for (index, step), messages in grouped]

    def run(self, instrument: ContextEntity, objects: list[ContextEntity], results: list[ContextEntity],
            logs: list[ContextEntity]) -> ContextEntity:
        job = self.prov.job
        owner = self.add(f"#owner-{_slug(job.owner)}", "Person", name=job.owner,
                         description="the fedimpute user the job was recorded for")
        ids = self.facts(self.run_id, {"job_id": job.job_id, "remote_id": job.remote_id,
                                       "remote_state": job.remote_state, "parent_id": job.parent_id,
                                       "children": self.prov.children})
        failed = job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
        return self.add(
            self.run_id, "CreateAction", name=f"imputation job {job.job_id}" + (f" ({job.name})" if job.name else ""),
            description=f"job {job.job_id} on {job.service}: {job.status.value}", identifier=ids,
            startTime=_iso(job.started_at or job.submitted_at or job.created_at), endTime=_iso(job.finished_at),
            actionStatus=_ref(_SCHEMA + _ACTION_STATUS[job.status]), error=job.error if failed else None,
            instrument=instrument, agent=owner, object=objects, result=results, subjectOf=logs)

    def quality(self, fedimpute: ContextEntity, results: list[ContextEntity]) -> list[ContextEntity]:
        """``quality.json`` (a file in the crate) and the action that made it, when there is a summary."""
        quality = self.prov.quality
        if quality is None:
            return []
        data = (json.dumps(quality, indent=2, sort_keys=True, default=str) + "\n").encode()
        summary = self.crate.add_file(io.BytesIO(data), dest_path=QUALITY_FILE, properties={
            "name": "imputation quality summary", "encodingFormat": "application/json",
            "contentSize": str(len(data)), "sha256": hashlib.sha256(data).hexdigest(),
            "description": f"`fedimpute quality {self.prov.job.job_id} --json`: {_quality_line(quality)}"})
        action = self.add("#quality-summary", "CreateAction", name="imputation quality summary",
                          description="R² by minor-allele-frequency bin and by chromosome, from the service's own "
                          "R² estimates in the downloaded results", instrument=fedimpute,
                          object=[r for r, f in zip(results, self.prov.results, strict=True) if f.downloaded_at],
                          result=summary, endTime=_iso(utcnow()),
                          actionStatus=_ref(_SCHEMA + "CompletedActionStatus"))
        return [action]


def build_crate(prov: JobProvenance, *, include_paths: bool = True) -> ROCrate:
    """The RO-Crate of one job (nothing written yet); ``include_paths`` adds where the files are kept."""
    b = _Builder(prov, include_paths=include_paths)
    job = prov.job
    profile = b.add(PROCESS_RUN_CRATE, "CreativeWork", name="Process Run Crate", version="0.6")
    fedimpute = b.fedimpute()
    panel = b.panel()
    inputs, results = b.inputs(), b.results()
    run = b.run(b.application(), [*inputs, *([panel] if panel else []), *b.options()], results, b.steps())
    quality = b.quality(fedimpute, results)
    events = b.events()
    root = b.crate.root_dataset
    root["name"] = f"Provenance of imputation job {job.job_id}" + (f" ({job.name})" if job.name else "")
    root["description"] = (f"How the results of job {job.job_id} on {job.service} were made: input and result "
                           "files with SHA-256, submission options, service, reference panel, tool versions and "
                           "the job's history." + ("" if quality else f" ({prov.quality_note})"))
    root["identifier"] = job.job_id
    root["conformsTo"] = profile
    root["mentions"] = [run, *quality, *events]
    return b.crate
