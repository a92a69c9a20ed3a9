"""The service catalogue: building entries from user input, and the help that says what they take.

Services are data (:class:`~fedimpute.models.ServiceConfig`); the three public Cloudgene
services are seeded by a store migration, everything else is added by the user with
``fedimpute services add`` or :func:`make_service`.  Nothing here knows a protocol: each
adapter declares its settings model, default limits and poll interval
(:class:`~fedimpute.services.base.ImputationService`), and the registry
(:mod:`fedimpute.services`) says which protocols exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from fedimpute.exceptions import UnknownProtocolError, UsageError
from fedimpute.models import ServiceConfig
from fedimpute.services.settings import LIMIT_KEYS, setting_keys

__all__ = ["LIMIT_KEYS", "make_service", "protocol_help", "settings_help", "split_settings",
           "with_protocol_defaults"]


def split_settings(pairs: Iterable[str]) -> tuple[dict[str, str], dict[str, object]]:
    """Split ``KEY=VALUE`` strings into protocol settings (checked by the adapter's model) and the
    service limits every protocol takes (:data:`LIMIT_KEYS`, checked here)."""
    settings: dict[str, str] = {}
    limits: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set expects KEY=VALUE, got {pair!r}")
        if key in LIMIT_KEYS:
            limits[key] = _parse_limit(key, value)
        else:
            settings[key] = value
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
    protocol: str,
    url: str,
    *,
    app: str | None = None,
    description: str = "",
    location: str = "",
    settings: Iterable[str] = (),
) -> ServiceConfig:
    """Validate user input into a :class:`ServiceConfig`: the protocol against the registry, the
    settings against its adapter's model (Cloudgene ``app`` defaults to imputationserver2)."""
    from fedimpute.services import adapter_class

    cls = adapter_class(str(protocol))
    if app and cls.protocol != "cloudgene":
        raise UsageError("--app only applies to cloudgene services")
    parsed, limits = split_settings(settings)
    cls.parse_settings(parsed)
    try:
        service = ServiceConfig(
            name=name, protocol=cls.protocol, url=url, description=description, location=location,
            app=(app or "imputationserver2") if cls.protocol == "cloudgene" else None,
            settings=parsed, **limits,
        )
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        errors = getattr(exc, "errors", None)
        message = "; ".join(e["msg"].removeprefix("Value error, ") for e in errors()) if errors else str(exc)
        raise UsageError(message) from None
    return with_protocol_defaults(service)


def with_protocol_defaults(service: ServiceConfig) -> ServiceConfig:
    """``service`` with every limit it leaves unset (None) taken from its adapter's ``default_limits``.

    Applied when an entry is made and again when one is read from the store, so entries stored
    before a default existed (and the built-ins, whose migration is never edited) get it too.  A
    service whose protocol no installed adapter provides is returned as it is: it still lists.
    """
    from fedimpute.services import adapter_class

    try:
        defaults = adapter_class(service.protocol).default_limits
    except UnknownProtocolError:
        return service
    unset = {key: value for key, value in defaults.items() if getattr(service, key) is None}
    return service.model_copy(update=unset) if unset else service


def protocol_help() -> str:
    """The ``--protocol`` help: every protocol the registry knows, installed ones included."""
    from fedimpute.services import protocols

    return f"One of: {', '.join(protocols())}."


def settings_help() -> str:
    """The ``--set`` help: each protocol's keys with their descriptions (from its settings model),
    then the limits every protocol takes."""
    from fedimpute.services import adapter_class, protocols

    lines = ["Protocol setting KEY=VALUE (repeatable)."]
    for name in protocols():
        cls = adapter_class(name)
        fields = cls.Settings.model_fields
        keys = []
        for key in setting_keys(cls.Settings):
            field = fields[key]
            default = cls.default_poll if key == "poll_interval" else field.get_default(call_default_factory=True)
            shown = f" (default {default:g})" if isinstance(default, float) else (
                f" (default {default})" if default not in (None, {}, "") else "")
            keys.append(f"{key}: {field.description or key}{shown}")
        lines.append(f"{name}: " + "; ".join(keys) + ".")
    lines.append(f"Every protocol: {', '.join(LIMIT_KEYS)} (QC limits and max_concurrent_jobs; 0 turns one off).")
    return "\n\n".join(lines)
