"""JSON bodies in the exact shapes of Cloudgene 3 (sections 3.2, 3.8, 3.9 and 4.2).

Why in one place: the shapes are the contract clients parse, so every key
(nulls included) is spelled out here rather than scattered over handlers.
"""

from __future__ import annotations

import time

from .model import IN_ENGINE, Job, OutputFile, Step, User, ms
from .results import display_size

PAGE_SIZE = 15


def step_json(step: Step) -> dict:
    return {"id": step.id, "name": step.name, "empty": not step.messages, "logMessages": list(step.messages)}


def file_json(job: Job, f: OutputFile) -> dict:
    return {
        "name": f.name,
        "path": f"{job.id}/output/{f.name}",
        "hash": f.hash,
        "count": f.count,
        "size": display_size(f.size),
        "parameterId": 0,
        "user": None,
    }


def tree_json(files: list[dict]) -> list[dict]:
    """The folder tree of JobResultsTreeUtil: files at the top, one node per folder with childs."""
    tree: list[dict] = []
    folders: dict[str, dict] = {}
    for f in files:
        folder, _, base = f["name"].rpartition("/")
        node = {
            "name": base,
            "path": f["path"],
            "hash": f["hash"],
            "size": f["size"],
            "folder": False,
            "childs": [],
        }
        if not folder:
            tree.append(node)
            continue
        if folder not in folders:
            folders[folder] = {
                "name": folder,
                "path": folder,
                "hash": None,
                "size": None,
                "folder": True,
                "childs": [],
            }
            tree.append(folders[folder])
        folders[folder]["childs"].append(node)
    return tree


def output_params(job: Job) -> list[dict]:
    """Only the downloadable, non-admin param 'output'; jobs still in the engine show none."""
    if job.state in IN_ENGINE:
        return []
    files = [file_json(job, f) for f in job.files]
    return [
        {
            "id": job.output_id,
            "name": "output",
            "description": "Downloads",
            "value": "output",
            "type": None,
            "download": True,
            "hash": job.output_hash,
            "jobId": job.id,
            "autoExport": False,
            "job": None,
            "tree": tree_json(files),
            "files": files,
        }
    ]


def job_json(job: Job, position: int, *, live: bool = True) -> dict:
    """JobResponse: every key always present. live=False is the list view of a finished job."""
    in_engine = job.state in IN_ENGINE
    show = live or in_engine
    return {
        "id": job.id,
        "name": job.name,
        "application": job.application,
        "applicationId": job.application_id,
        "state": job.state,
        "positionInQueue": position,
        "submittedOn": job.submitted_on,
        "startTime": job.start_time,
        "endTime": job.end_time,
        "deletedOn": job.deleted_on,
        "currentTime": ms(time.time()),
        "userAgent": job.user_agent,
        "username": job.username,
        "logs": "",
        "workspaceSize": None,
        "steps": [step_json(s) for s in job.steps] if show else [],
        "outputParams": output_params(job) if live else [],
    }


def page_json(items: list[dict], page: int | None) -> dict:
    """PageResponse: without `page` everything on one page; with it, 15 per page and a +-3 window."""
    count = len(items)
    if page is None:
        return {
            "count": count,
            "page": 1 if count else 0,
            "pageSize": count,
            "prev": None,
            "next": None,
            "pages": [1] if count else [],
            "data": items,
        }
    last = max(1, -(-count // PAGE_SIZE))
    page = min(max(page, 1), last)
    data = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {
        "count": count,
        "page": page if count else 0,
        "pageSize": PAGE_SIZE,
        "prev": page - 1 if page > 1 else None,
        "next": page + 1 if page < last else None,
        "pages": list(range(max(1, page - 3), min(last, page + 3) + 1)) if count else [],
        "data": data,
    }


def _value(key: str, value: str) -> dict:
    return {"key": key, "value": value, "label": None, "values": None, "enabled": False}


def _param(pid: str, ptype: str, description: str, value: str = "", **extra) -> dict:
    return {
        "id": pid,
        "description": description,
        "type": ptype,
        "value": value,
        "visible": True,
        "required": True,
        "adminOnly": False,
        **extra,
    }


def _list(pid: str, description: str, default: str, values: dict[str, str], ptype: str = "list") -> dict:
    return _param(pid, ptype, description, default, values=[_value(k, values[k]) for k in sorted(values)])


# Static inputs of imputationserver2 (id, type, description, default, {key: label}); lists sort by key.
_CHECKBOX = {"false": "false", "true": "true"}
_OPTIONS = [
    ("build", "list", "Array Build", "hg19", {"hg19": "GRCh37/hg19", "hg38": "GRCh38/hg38"}),
    (
        "r2Filter",
        "list",
        "rsq Filter",
        "0",
        {"0": "off", "0.001": "0.001", "0.1": "0.1", "0.2": "0.2", "0.3": "0.3"},
    ),
    (
        "phasing",
        "list",
        "Phasing",
        "eagle",
        {
            "eagle": "Eagle v2.4 (phased output)",
            "beagle": "Beagle 5.4 (phased output)",
            "no_phasing": "No phasing",
        },
    ),
]
_TAIL = [
    (
        "mode",
        "list",
        "Mode",
        "imputation",
        {
            "imputation": "Quality Control & Imputation",
            "qc_only": "Quality Control Only",
        },
    ),
    ("aesEncryption", "checkbox", "AES 256 encryption", "false", _CHECKBOX),
    ("meta", "checkbox", "Generate Meta-imputation file", "false", _CHECKBOX),
]
_TERMS = {
    "check1": "I will not attempt to re-identify or contact research participants.",
    "check2": "I will report any inadvertent data release, security breach or other data management "
    "incident of which I become aware.",
}


def _panel_params(sim) -> list[dict]:
    """refpanel (app_list) and population (binded_list keyed by the same 'apps@id@version')."""
    keys = {p["id"]: f"apps@{p['id']}@{p['version']}" for p in sim.panels}
    panels = [_value(keys[p["id"]], p["name"]) for p in sim.panels]
    bound = [
        {"key": keys[p["id"]], "label": p["name"], "value": None, "enabled": False,
         "values": [_value(k, v) for k, v in p["populations"]]}
        for p in sim.panels
    ]  # fmt: skip
    return [
        _param("refpanel", "app_list", "Reference Panel", values=panels),
        _param("files", "local_folder", "Input Files (VCF)", source="upload"),
        _param("population", "binded_list", "Allele Frequency Check", bind="refpanel", values=bound),
    ]


def app_json(sim) -> dict:
    """WdlAppResponse of imputationserver2; `password` is hidden, so it is not listed."""
    refpanel, files, population = _panel_params(sim)
    lists = [_list(pid, desc, default, values, ptype) for pid, ptype, desc, default, values in _OPTIONS]
    tail = [_list(pid, desc, default, values, ptype) for pid, ptype, desc, default, values in _TAIL]
    terms = [_param(pid, "terms_checkbox", text) for pid, text in _TERMS.items()]
    return {
        "id": sim.app_id,
        "name": sim.app_name,
        "version": sim.app_version,
        "description": "Genotype imputation with minimac4 (simulated).",
        "author": "simulator",
        "website": None,
        "logo": None,
        "submitButton": "Start Imputation",
        "s3Workspace": False,
        "footer": None,
        "params": [refpanel, files, *lists, population, *tail, *terms],
    }


def server_json(sim, user: User | None) -> dict:
    """GET /api/v2/server, with the misspelt `maintenace` keys of the real server."""
    body = {
        "name": sim.server_name,
        "background": "#343a40",
        "foreground": "#ffffff",
        "footer": "",
        "emailRequired": False,
        "userEmailDescription": "You will receive notifications by e-mail.",
        "userWithoutEmailDescription": "You will not receive any notifications.",
        "oauth": [],
        "apps": [],
        "deprecatedApps": [],
        "experimentalApps": [],
        "loggedIn": user is not None,
        "navigation": [],
        "maintenace": sim.maintenance,
    }
    if sim.maintenance:
        body["maintenaceMessage"] = "This functionality is currently under maintenance."
    if user is not None:
        body["apps"] = [
            {"id": f"{sim.app_id}@{sim.app_version}", "name": sim.app_name, "version": sim.app_version}
        ]
        body["user"] = {"username": user.username, "mail": user.mail, "admin": False, "name": user.name}
    return body
