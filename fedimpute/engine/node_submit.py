"""What a partner may ask the node to run, and the request the node sends its own WES server.

A partner's ``POST /runs`` names a registered panel and attaches its cohort; everything that
would let a partner run something else on the node is refused or replaced:

- the workflow is always the node's own shipped imputation workflow (a partner's workflow URL,
  attachments other than ``inputs/<file>``, engine parameters and sapporo's download-by-URL
  ``workflow_attachment_obj`` are dropped: each would run code or fetch URLs on the node);
- ``workflow_params`` may hold only the imputation options (:data:`PARTNER_PARAMS`); the
  panel's files are filled in from the node's registry, never taken from the partner (a path
  there could read any file the engine can);
- the run is tagged with the partner's name (``fedimpute_partner``), which scopes what the
  partner can see later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

from fedimpute._multipart import MultipartBody
from fedimpute.exceptions import UsageError

__all__ = ["PARTNER_PARAMS", "PARTNER_TAG", "NodeRequestError", "partner_run_body", "upload_name"]

PARTNER_TAG = "fedimpute_partner"
#: Workflow inputs a partner may set (with their JSON types).
PARTNER_PARAMS: dict[str, tuple[type, ...]] = {
    "vcfs": (list,), "panel": (str,), "build": (str,), "population": (str,), "phasing": (str,),
    "imputer": (str,), "r2_filter": (str, int, float), "mode": (str,), "chunk_size": (int,), "chunk_flank": (int,),
}
_INPUTS = "inputs/"


class NodeRequestError(UsageError):
    """A partner's request the node refuses (answered 400 with this message)."""


def _plain_name(name: str) -> str:
    base = name.removeprefix(_INPUTS)
    if not base or "/" in base or "\\" in base or base in (".", "..") or base.startswith("."):
        raise NodeRequestError(f"attachment {name!r} is not allowed: attach the cohort as inputs/<file name>")
    return base


def _params(raw: str, uploads: dict[str, BinaryIO], panels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    try:
        params = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise NodeRequestError(f"workflow_params is not JSON ({exc.msg})") from None
    if not isinstance(params, dict):
        raise NodeRequestError("workflow_params must be a JSON object")
    for key, value in params.items():
        allowed = PARTNER_PARAMS.get(key)
        if allowed is None:
            raise NodeRequestError(f"workflow parameter {key!r} is not accepted from partners; allowed: "
                                   f"{', '.join(PARTNER_PARAMS)}")
        if not isinstance(value, allowed) or isinstance(value, bool):
            raise NodeRequestError(f"workflow parameter {key!r} has the wrong type")
    panel = params.get("panel")
    if panel not in panels:
        raise NodeRequestError(f"unknown panel {panel!r}; this node offers: {', '.join(sorted(panels)) or 'none'}")
    vcfs = params.get("vcfs") or []
    if not vcfs:
        raise NodeRequestError("no input: give vcfs as [{class: File, location: inputs/<file name>}]")
    for entry in vcfs:
        location = entry.get("location") if isinstance(entry, dict) else None
        if not isinstance(location, str) or not location.startswith(_INPUTS) or \
                _plain_name(location) not in uploads or set(entry) - {"class", "location"}:
            raise NodeRequestError(f"input {entry!r} is not one of the attached inputs/<file> files")
    return {**params, **panels[panel]}


def partner_run_body(form: dict[str, str], uploads: dict[str, BinaryIO], *, partner: str,
                     panels: dict[str, dict[str, Any]], workflow: tuple[str, list[tuple[str, Path]]],
                     engine: str | None) -> MultipartBody:
    """The node's request for a partner's run.

    ``form``: the partner's text fields; ``uploads``: its ``inputs/<name>`` files (other attachments
    already dropped) by plain name; ``panels``: panel id -> the workflow inputs of its files;
    ``workflow``: the shipped workflow as ``(workflow_url, attachments)``.
    """
    params = _params(form.get("workflow_params", "{}"), uploads, panels)
    try:
        tags = json.loads(form.get("tags") or "{}")
    except json.JSONDecodeError:
        raise NodeRequestError("tags is not a JSON object") from None
    if not isinstance(tags, dict):
        raise NodeRequestError("tags must be a JSON object")
    tags = {str(k): str(v) for k, v in tags.items() if k != PARTNER_TAG}
    tags[PARTNER_TAG] = partner
    body = MultipartBody()
    body.add_field("workflow_params", json.dumps(params))
    body.add_field("workflow_type", "CWL")
    body.add_field("workflow_type_version", "v1.2")
    if engine:
        body.add_field("workflow_engine", engine)
    body.add_field("tags", json.dumps(tags))
    url, attachments = workflow
    body.add_field("workflow_url", url)
    for name, path in attachments:
        body.add_file("workflow_attachment", path, filename=name)
    for name, fh in uploads.items():
        body.add_file("workflow_attachment", fh, filename=f"{_INPUTS}{name}")
    return body


def upload_name(filename: str | None) -> str | None:
    """The plain file name of an ``inputs/<name>`` attachment, None for any other attachment."""
    if not filename or not filename.startswith(_INPUTS):
        return None
    return _plain_name(filename)
