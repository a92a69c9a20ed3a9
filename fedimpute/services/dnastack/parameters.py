"""What a Workbench run is given: its settings model and the workflow inputs of one submission.

Workbench runs in the cloud and cannot read local files, so inputs are named by where the user
copied them (``input_prefix``), and every option becomes a ``<params_prefix><option>`` input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from fedimpute.exceptions import UsageError
from fedimpute.models import SubmitOptions
from fedimpute.services.settings import ServiceSettings

__all__ = ["DnastackSettings", "run_params"]


class DnastackSettings(ServiceSettings):
    namespace: str | None = Field(default=None, description="Workbench namespace (default: the user's default "
                                  "namespace)")
    engine_id: str | None = Field(default=None, description="Workbench engine id (default: the engine marked "
                                  "default)")
    workflow_url: str | None = Field(default=None, description="'<workflow id>/<version id>' from the Workbench "
                                     "workflow registry")
    workflow_name: str | None = Field(default=None, description="workflow name to look up in the Workbench "
                                      "registry when workflow_url is unset")
    workflow_type_version: str = Field(default="1.0", description="WDL version of the workflow")
    input_prefix: str | None = Field(default=None, description="cloud folder the input VCFs were copied to, "
                                     "e.g. gs://bucket/cohort (required)")
    params_prefix: str = Field(default="impute.", description="prefix of the workflow input names "
                               "(impute.panel, impute.vcfs, ...)")
    extra_params: dict[str, Any] = Field(default_factory=dict, description="JSON object of further workflow "
                                         "inputs sent with every run (default_workflow_params)")

    @field_validator("extra_params", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        """The stored text is JSON; say what is wrong with it in the user's terms."""
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON ({exc.msg}); set it to a JSON object such as "
                                 '{"impute.ref_dir": "gs://BUCKET/refs"}') from None
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object of workflow inputs")
        return value


def run_params(service: str, files: list[Path], options: SubmitOptions,
               settings: DnastackSettings) -> dict[str, Any]:
    """The workflow inputs for one run: ``<params_prefix><option>`` for every option that is set
    and ``<params_prefix>vcfs`` listing ``<input_prefix>/<file name>`` for each input file."""
    prefix = (settings.input_prefix or "").strip().rstrip("/")
    if not prefix:
        raise UsageError(
            f"{service}: DNAstack Workbench runs in the cloud and cannot read local files; copy the VCFs to "
            "cloud storage (e.g. `gsutil cp *.vcf.gz gs://BUCKET/cohort/`) and set the input_prefix setting "
            f"to that folder (`fedimpute services add {service} --protocol dnastack --url URL "
            "--set input_prefix=gs://BUCKET/cohort --replace`)")
    if options.aes:
        raise UsageError(f"{service}: DNAstack Workbench does not encrypt results with a password; "
                         "drop --aes")
    key = settings.params_prefix
    params: dict[str, Any] = {f"{key}panel": options.panel}
    for name in ("build", "population", "phasing", "r2_filter", "mode"):
        value = getattr(options, name)
        if value is not None and value != "":
            params[f"{key}{name}"] = value
    if options.meta:
        params[f"{key}meta"] = True
    params[f"{key}vcfs"] = [f"{prefix}/{Path(f).name}" for f in files]
    return params
