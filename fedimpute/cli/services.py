"""`fedimpute services ...` and `fedimpute login`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from fedimpute.catalogue import make_service
from fedimpute.cli._common import credentials, emit_json, err, out, store
from fedimpute.exceptions import NotAvailableError, UsageError
from fedimpute.models import HealthRecord, ServiceConfig

__all__ = ["login", "services_app"]

services_app = typer.Typer(help="The catalogue of imputation services.", no_args_is_help=True)


def _health_json(record: HealthRecord) -> dict:
    return record.model_dump(mode="json", include={"status", "checked_at", "detail"})


def service_summary(service: ServiceConfig, health: HealthRecord) -> dict:
    return {
        "name": service.name, "protocol": service.protocol.value, "url": service.url,
        "description": service.description, "location": service.location, "enabled": service.enabled,
        "health": _health_json(health),
        "app": service.app, "builtin": service.builtin, "settings": service.settings,
        "limits": {"min_samples": service.min_samples, "max_samples": service.max_samples,
                   "max_upload_mb": service.max_upload_mb,
                   "max_concurrent_jobs": service.max_concurrent_jobs, "builds": service.builds},
    }


@services_app.command("list")
def list_services(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List services with their last known health."""
    st = store()
    services = st.list_services()
    rows = [service_summary(s, st.health_of(s.name)) for s in services]
    if as_json:
        emit_json(rows)
        return
    creds = credentials()
    table = Table("name", "protocol", "url", "location", "health", "token", title="fedimpute services")
    for s, row in zip(services, rows, strict=True):
        table.add_row(s.name, s.protocol.value, s.url, s.location, row["health"]["status"],
                      "yes" if creds.token_source(s.name) else "-")
    out.print(table)


@services_app.command("add")
def add_service(
    name: str,
    protocol: Annotated[str, typer.Option("--protocol", help="cloudgene, wes, dnastack or local.")],
    url: Annotated[str, typer.Option("--url", help="Base URL of the service.")],
    app: Annotated[str | None, typer.Option("--app", help="Cloudgene app id (default imputationserver2).")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    location: Annotated[str, typer.Option("--location", help="Where it runs (country, institution).")] = "",
    settings: Annotated[list[str] | None, typer.Option("--set", help="Protocol setting KEY=VALUE.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a service of that name.")] = False,
) -> None:
    """Add a service to the catalogue."""
    service = make_service(name, protocol, url, app=app, description=description, location=location,
                           settings=settings or ())
    store().add_service(service, replace=replace)
    err.print(f"added service {service.name} ({service.protocol.value}, {service.url})")


@services_app.command("remove")
def remove_service(name: str) -> None:
    """Remove a service from the catalogue (its jobs stay in the store)."""
    store().remove_service(name)
    err.print(f"removed service {name}")


@services_app.command("check")
def check_services(
    names: Annotated[list[str] | None, typer.Argument()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check health and token of services."""
    raise NotAvailableError("service health and token checks (they arrive with the service adapters)")


def login(
    name: str,
    token: Annotated[str | None, typer.Option("--token", help="The API token.")] = None,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read the token from stdin.")] = False,
) -> None:
    """Store a service's API token in the OS keyring (a 0600 file where none exists)."""
    if (token is None) == (not token_stdin):
        raise UsageError("give exactly one of --token TOKEN or --token-stdin")
    store().get_service(name)  # exit 3 for an unknown service, before a secret is stored
    value = sys.stdin.readline() if token_stdin else token
    creds = credentials()
    creds.set_token(name, value or "")
    err.print(f"token for {name} stored in the {creds.backend_name}")
