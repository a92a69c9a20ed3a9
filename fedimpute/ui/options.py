"""Submission options a service accepts, from its discovered schema where it has one.

Cloudgene apps publish their parameters (``GET /api/v2/server/apps/{app}``): the form offers
exactly the values the app lists, because the server accepts bad values and fails the job
hours later.  Protocols without a schema (WES, the local engine) get the contract's values.
Schemas are cached per process and service: they describe the service, not a user.
"""

from __future__ import annotations

from fedimpute.hub import Hub
from fedimpute.models import ServiceConfig

__all__ = ["DEFAULT_CHOICES", "OPTION_NAMES", "default_choices", "discover_choices", "merge_choices"]

#: The CLI contract's values (`submit --phasing/--r2-filter/--mode`).
DEFAULT_CHOICES: dict[str, list[str]] = {
    "phasing": ["eagle", "beagle", "no_phasing"],
    "r2_filter": ["0", "0.001", "0.1", "0.2", "0.3"],
    "mode": ["imputation", "qc-only"],
}
OPTION_NAMES = ("build", "phasing", "r2_filter", "mode")
_SCHEMA_PARAM = {"build": "build", "phasing": "phasing", "r2_filter": "r2Filter"}
_cache: dict[tuple[str, str], dict[str, list[str]]] = {}


def default_choices(service: ServiceConfig) -> dict[str, list[str]]:
    """Choices for a service whose schema is unknown: its builds and the contract's values."""
    return {"build": list(service.builds), **{k: list(v) for k, v in DEFAULT_CHOICES.items()}}


def _from_schema(schema, service: ServiceConfig) -> dict[str, list[str]]:
    choices = {}
    for option, name in _SCHEMA_PARAM.items():
        values = schema.values(name) if schema.has(name) else []
        choices[option] = values or (list(service.builds) if option == "build" else [])
    choices["mode"] = list(DEFAULT_CHOICES["mode"]) if schema.has("mode") else []
    return choices


async def discover_choices(hub: Hub, service: ServiceConfig, user: str | None = None) -> dict[str, list[str]]:
    """The options ``service`` accepts; from its app schema (read with ``user``'s token, else the shared
    one) when the adapter can read one."""
    key = (str(hub.store.home), service.name)
    if key in _cache:
        return _cache[key]
    async with hub.adapter(service, token=hub.acting_token(service.name, user)) as adapter:
        read_schema = getattr(adapter, "app_schema", None)
        choices = _from_schema(await read_schema(), service) if read_schema else default_choices(service)
    _cache[key] = choices
    return choices


def merge_choices(per_service: list[dict[str, list[str]]]) -> dict[str, list[str]]:
    """Values every service accepts (order of the first), for a fan-out to several services.

    >>> merge_choices([{"phasing": ["eagle", "beagle"]}, {"phasing": ["beagle"]}])
    {'phasing': ['beagle']}
    """
    if not per_service:
        return {}
    merged = {}
    for option, values in per_service[0].items():
        merged[option] = [v for v in values if all(v in other.get(option, []) for other in per_service[1:])]
    return merged
