"""The service catalogue: which protocol settings exist, and building entries from user input.

Services are data (:class:`~fedimpute.models.ServiceConfig`); the three public
Cloudgene services are seeded by a store migration, everything else is added by the
user with ``fedimpute services add`` or :func:`make_service`.
"""

from __future__ import annotations

from collections.abc import Iterable

from fedimpute.exceptions import UnknownSettingError, UsageError
from fedimpute.models import Protocol, ServiceConfig

__all__ = ["LIMIT_KEYS", "PROTOCOL_DEFAULTS", "PROTOCOL_SETTINGS", "make_service", "parse_settings",
           "with_protocol_defaults"]

#: Settings each protocol understands (``--set KEY=VALUE``), with what they mean.
PROTOCOL_SETTINGS: dict[Protocol, dict[str, str]] = {
    Protocol.CLOUDGENE: {
        "poll_interval": "seconds between polls of one job (default 60, as TOPMed asks)",
    },
    Protocol.WES: {
        "workflow": "'impute' (the workflow shipped with fedimpute, attached to each run) or a URL",
        "workflow_type": "workflow language, e.g. CWL or WDL",
        "workflow_type_version": "language version, e.g. v1.2",
        "engine": "workflow engine name from the server's service-info, e.g. cwltool",
        "panels": "path of a JSON list of {panel_id, name, build, populations}, or 'local'",
        "poll_interval": "seconds between polls of one run",
    },
    Protocol.DNASTACK: {
        "namespace": "Workbench namespace (default: the user's default namespace)",
        "engine_id": "Workbench engine id (default: the engine marked default)",
        "workflow_url": "'<workflow id>/<version id>' from the Workbench workflow registry",
        "workflow_name": "workflow name to look up in the Workbench registry when workflow_url is unset",
        "workflow_type_version": "WDL version of the workflow (default 1.0)",
        "input_prefix": "cloud folder the input VCFs were copied to, e.g. gs://bucket/cohort (required)",
        "params_prefix": "prefix of the workflow input names (default 'impute.': impute.panel, impute.vcfs, ...)",
        "extra_params": "JSON object of further workflow inputs sent with every run (default_workflow_params)",
        "poll_interval": "seconds between polls of one run",
    },
    Protocol.LOCAL: {
        "workflow": "'impute' (default): the workflow shipped with fedimpute",
        "panels": "'local' (default) for the local engine's panel registry",
        "engine": "workflow engine name (default: the one the server lists)",
        "poll_interval": "seconds between polls of one run",
    },
}

#: Keys accepted for every protocol; they set the service's limits used by the pre-flight check.
LIMIT_KEYS = ("min_samples", "max_samples", "max_upload_mb", "max_concurrent_jobs", "builds")

#: The limits a protocol's own server software applies when its operators set nothing else, filled into
#: every limit an entry leaves unset (``--set KEY=VALUE`` overrides one; ``0`` switches it off).  This is
#: what lets the pre-flight check refuse a cohort the server would refuse only after the upload.
#: Cloudgene, from the cloudgene-api reference (shared/reference/cloudgene-api.md): min_samples 20 and
#: max_samples 50,000 are the imputationserver2 pipeline defaults (section 6.2, "At least 20 samples must
#: be uploaded.", genepi/imputationserver-utils: steps/InputValidationCommand.java); max_upload_mb 5000 is
#: Cloudgene's ``uploadLimit`` default (section 3.1, genepi/cloudgene3: cli/StartServer.java); the builds
#: hg19 and hg38 are the app's ``build`` list (section 3.1), the default of ServiceConfig.builds.
#: max_concurrent_jobs is left to the server: it answers "Only N jobs per user ..." itself.
PROTOCOL_DEFAULTS: dict[Protocol, dict[str, object]] = {
    Protocol.CLOUDGENE: {"min_samples": 20, "max_samples": 50_000, "max_upload_mb": 5000},
}


def parse_settings(protocol: Protocol, pairs: Iterable[str]) -> tuple[dict[str, str], dict[str, object]]:
    """Split ``KEY=VALUE`` strings into protocol settings and service limits.

    Raises
    ------
    UnknownSettingError
        A key that ``protocol`` does not define; the message lists the known keys.
    """
    known = PROTOCOL_SETTINGS[protocol]
    settings: dict[str, str] = {}
    limits: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {pair!r}")
        if key in LIMIT_KEYS:
            limits[key] = _parse_limit(key, value)
        elif key in known:
            settings[key] = value
        else:
            names = ", ".join([*known, *LIMIT_KEYS])
            raise UnknownSettingError(f"unknown setting {key!r} for protocol {protocol.value}; known keys: {names}")
    return settings, limits


def _parse_limit(key: str, value: str) -> object:
    if key == "builds":
        builds = [b.strip() for b in value.split(",") if b.strip()]
        bad = [b for b in builds if b not in ("hg19", "hg38")]
        if bad or not builds:
            raise UsageError(f"builds must be a comma-separated list of hg19 and hg38, got {value!r}")
        return builds
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{key} must be a whole number, got {value!r}") from None
    if number < 0:
        raise UsageError(f"{key} must not be negative, got {number}")
    return number


def make_service(
    name: str,
    protocol: str | Protocol,
    url: str,
    *,
    app: str | None = None,
    description: str = "",
    location: str = "",
    settings: Iterable[str] = (),
) -> ServiceConfig:
    """Validate user input into a :class:`ServiceConfig` (Cloudgene ``app`` defaults to imputationserver2)."""
    try:
        proto = Protocol(protocol)
    except ValueError:
        choices = ", ".join(p.value for p in Protocol)
        raise UsageError(f"unknown protocol {protocol!r}; choose one of {choices}") from None
    if app and proto is not Protocol.CLOUDGENE:
        raise UsageError("--app only applies to cloudgene services")
    parsed, limits = parse_settings(proto, settings)
    try:
        service = ServiceConfig(
            name=name, protocol=proto, url=url, description=description, location=location,
            app=(app or "imputationserver2") if proto is Protocol.CLOUDGENE else None,
            settings=parsed, **limits,
        )
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        errors = getattr(exc, "errors", None)
        message = "; ".join(e["msg"].removeprefix("Value error, ") for e in errors()) if errors else str(exc)
        raise UsageError(message) from None
    return with_protocol_defaults(service)


def with_protocol_defaults(service: ServiceConfig) -> ServiceConfig:
    """``service`` with every limit it leaves unset (None) taken from :data:`PROTOCOL_DEFAULTS`.

    Applied when an entry is made and again when one is read from the store, so entries stored
    before a default existed (and the built-ins, whose migration is never edited) get it too.
    """
    defaults = PROTOCOL_DEFAULTS.get(service.protocol, {})
    unset = {key: value for key, value in defaults.items() if getattr(service, key) is None}
    return service.model_copy(update=unset) if unset else service
