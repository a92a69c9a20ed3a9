"""DNAstack Workbench ("ewes", DNAstack's extended WES), by concern.

Workbench is not plain WES, and every difference shapes one module here:

* :mod:`.discovery`: endpoints are found through a GA4GH service registry (``/services``,
  then ``/service-registry/services``, then ``/api/service-registry/services``) and picked by
  ``type`` (``com.dnastack.workbench:ewes-service`` and friends), once per adapter.
* :mod:`.resolution`: runs live under a namespace (``{ewes}/{ns}/ga4gh/wes/v1/...``), are
  submitted with an ``engine_id`` and name a workflow of Workbench's own registry as
  ``"<workflow id>/<version id>"``; each of the three is a setting or is looked up (the user's
  default namespace, the default engine, the workflow by name).
* :mod:`.parameters`: runs execute in the cloud and cannot read local files: inputs are
  referenced as ``<input_prefix>/<file name>`` and the user copies them there first.
* :mod:`.parsing`: run details (events, tasks, errors) as RemoteJobs, on top of
  :mod:`fedimpute.services.wes_parse`; http(s) outputs are downloadable, cloud-storage outputs
  (``gs://`` ...) are reported in a message for the cloud's own tools.
* :mod:`.oauth`: auth is an OAuth2 bearer token (client credentials or device-code login),
  sent only to the Workbench hosts, never to third-party download links.
* :mod:`.adapter`: the adapter that ties them together, submitting through ``/batch``.
"""

from __future__ import annotations

from fedimpute.services.dnastack.adapter import DnastackService, DnastackSettings
from fedimpute.services.dnastack.discovery import REGISTRY_PATHS, Endpoints
from fedimpute.services.dnastack.parameters import run_params
from fedimpute.services.dnastack.parsing import STATES, map_state, output_files, parse_run

__all__ = ["REGISTRY_PATHS", "STATES", "DnastackService", "DnastackSettings", "Endpoints", "map_state",
           "output_files", "parse_run", "run_params"]
