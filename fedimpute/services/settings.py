"""Protocol settings: the ``--set KEY=VALUE`` pairs of a service entry, as each adapter's pydantic model.

A service entry keeps its settings as strings (``ServiceConfig.settings``), because that is what
the user typed and what the store holds.  Each adapter declares a :class:`ServiceSettings`
subclass; validating the strings against it gives the adapter typed values, gives ``services add``
its errors (an unknown key names the known ones, a wrong type names the key and the value), and
gives the ``--set`` help its text (the fields' descriptions).  The limits every protocol takes
(:data:`LIMIT_KEYS`) are :class:`~fedimpute.models.ServiceConfig` fields, not settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fedimpute.exceptions import UnknownSettingError, UsageError

__all__ = ["LIMIT_KEYS", "ServiceSettings", "setting_keys", "validate_settings"]

#: Keys accepted for every protocol; they set the service's limits used by the pre-flight check.
LIMIT_KEYS = ("min_samples", "max_samples", "max_upload_mb", "max_concurrent_jobs", "builds")


class ServiceSettings(BaseModel):
    """Settings every protocol takes; an adapter's own model adds its keys (with descriptions: the help)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    poll_interval: float | None = Field(default=None, ge=0, description="seconds between polls of one job (0: "
                                        "at every sweep of the monitor)")
    ca_bundle: str | None = Field(default=None, description="PEM file of the CA that signed the service's "
                                  "certificate (a lab CA, or a partner node's self-signed certificate)")


    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"the CA bundle {path} is not a file (a PEM certificate)")
        return str(path.resolve())


def setting_keys(model: type[ServiceSettings]) -> list[str]:
    """The keys of ``model``: the protocol's own first (in declaration order), then the common ones."""
    common = list(ServiceSettings.model_fields)
    return [key for key in model.model_fields if key not in common] + common


def validate_settings(model: type[ServiceSettings], protocol: str, raw: Mapping[str, str]) -> ServiceSettings:
    """``raw`` (KEY -> text) as ``model``.

    Raises
    ------
    UnknownSettingError
        A key the protocol does not define; the message lists the known keys.
    UsageError
        A value of the wrong type or range; the message names the key, the value and the rule.
    """
    for key in raw:
        if key not in model.model_fields:
            names = ", ".join([*setting_keys(model), *LIMIT_KEYS])
            raise UnknownSettingError(f"unknown setting {key!r} for protocol {protocol}; known keys: {names}")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UsageError(f"setting {key} of protocol {protocol}: {message} (got {raw.get(key)!r}); fix it with "
                         f"--set {key}=VALUE") from None
