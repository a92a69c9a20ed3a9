"""`fedimpute services ...` and `fedimpute login`."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.table import Table
from typer.core import TyperCommand, TyperOption

from fedimpute.catalogue import make_service
from fedimpute.cli._common import credentials, default_owner, emit_json, err, out, store
from fedimpute.credentials import token_env_name
from fedimpute.exceptions import AuthenticationError, TransientServiceError, UnknownProtocolError, UsageError
from fedimpute.hub import Hub
from fedimpute.models import HealthRecord, HealthStatus, ServiceConfig, utcnow
from fedimpute.services.base import TokenInfo

__all__ = ["login", "services_app"]

services_app = typer.Typer(help="The catalogue of imputation services.", no_args_is_help=True)


def _health_json(record: HealthRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", include={"status", "checked_at", "detail"})


def service_summary(service: ServiceConfig, health: HealthRecord) -> dict[str, Any]:
    return {
        "name": service.name, "protocol": service.protocol, "url": service.url,
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
    creds, user = credentials(), default_owner()
    table = Table("name", "protocol", "url", "location", "health", "token", title="fedimpute services")
    for s, row in zip(services, rows, strict=True):  # the token this user's jobs would be sent with
        table.add_row(s.name, s.protocol, s.url, s.location, row["health"]["status"],
                      creds.token_owner(s.name, user) or "-")
    out.print(table)


class _RegistryHelp(TyperCommand):
    """Fills the ``--protocol`` and ``--set`` help from the adapter registry when help is shown (not at
    import, which would load every adapter), so an installed third-party protocol is listed too."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from fedimpute.catalogue import protocol_help, settings_help

        texts = {"protocol": protocol_help, "settings": settings_help}
        for param in self.params:
            if param.name in texts and isinstance(param, TyperOption):
                param.help = texts[param.name]()
        super().format_help(ctx, formatter)


@services_app.command("add", cls=_RegistryHelp)
def add_service(
    name: str,
    protocol: Annotated[str, typer.Option("--protocol", help="The service's protocol (cloudgene, wes, ...).")],
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
    err.print(f"added service {service.name} ({service.protocol}, {service.url}); {_limits_text(service)}",
              markup=False)


def _limits_text(service: ServiceConfig) -> str:
    """The QC limits the pre-flight check will apply, so a protocol default is never a surprise."""
    most = f"{service.max_samples:,}" if service.max_samples else "any number of"
    upload = f"{service.max_upload_mb:,} MB per job" if service.max_upload_mb else "no upload limit"
    return (f"limits: {service.min_samples or 1} to {most} samples, {upload}, builds {', '.join(service.builds)} "
            "(change with --set KEY=VALUE --replace)")


@services_app.command("remove")
def remove_service(name: str) -> None:
    """Remove a service from the catalogue (its jobs stay in the store)."""
    store().remove_service(name)
    err.print(f"removed service {name}")


async def _check_all(hub: Hub, names: list[str], user: str) -> list[dict[str, Any]]:
    """Each service's health and the token ``user``'s jobs would be sent with (theirs, else the shared one)."""
    rows = []
    for name in names:
        token_present = hub.credentials.token(name, user) is not None
        try:
            health, token = await hub.check_service(name, user=user)
        except UnknownProtocolError as exc:
            health, token = HealthRecord(service=name, status=HealthStatus.UNKNOWN, checked_at=None,
                                         detail=str(exc)), None
        rows.append({
            "name": name, "health": _health_json(health),
            "token": {"present": token_present, "valid": token.valid if token else None,
                      "expires_at": token.expires_at.isoformat().replace("+00:00", "Z")
                      if token and token.expires_at else None,
                      "user": token.user if token else None,
                      "message": token.message if token else ""},
        })
        _warn_token(name, token)
    return rows


def _warn_token(name: str, token: TokenInfo | None) -> None:
    """Say on stderr what a refused or unchecked token means for the user, and what to do."""
    if token is not None and token.valid is False:
        err.print(f"warning: the token for {name} was refused ({token.message}); create a new one and run "
                  f"`fedimpute login {name}`", markup=False)
    elif token is not None and token.valid is None:
        err.print(f"warning: {name}: {token.message}", markup=False)
    _warn_expiry(name, token)


def _warn_expiry(name: str, token: TokenInfo | None) -> None:
    if token and token.valid and token.expires_at:
        left = token.expires_at - utcnow()
        if left < timedelta(days=7):
            err.print(f"warning: the token for {name} expires in {max(left.days, 0)} day(s) "
                      f"({token.expires_at:%Y-%m-%d}); create a new one and run `fedimpute login {name}`",
                      markup=False)


@services_app.command("check")
def check_services(
    names: Annotated[list[str] | None, typer.Argument(help="Services (default: every enabled one).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check health and token of services, and record the health."""
    hub = Hub()
    targets = names or [s.name for s in hub.store.list_services() if s.enabled]
    for name in targets:
        hub.store.get_service(name)  # unknown names exit 3 before any request
    rows = asyncio.run(_check_all(hub, targets, default_owner()))
    if as_json:
        emit_json(rows)
        return
    table = Table("name", "health", "detail", "token", "user", "expires", title="service check")
    for r in rows:
        t = r["token"]
        state = "none" if not t["present"] else {True: "valid", False: "INVALID", None: "unknown"}[t["valid"]]
        table.add_row(r["name"], r["health"]["status"], r["health"]["detail"][:60], state, t["user"] or "",
                      t["expires_at"] or "")
    out.print(table)


def login(
    name: str,
    token: Annotated[str | None, typer.Option("--token", help="The API token.")] = None,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read the token from stdin.")] = False,
    device: Annotated[bool, typer.Option("--device", help="OAuth2 device-code login (DNAstack).")] = False,
    client_id: Annotated[str | None, typer.Option("--client-id", help="OAuth2 client-credentials login "
                                                  "(DNAstack); the client secret is read from stdin.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Whose token it is (default: FEDIMPUTE_USER, else "
                                             "your login name); that user's jobs are sent with it.")] = None,
    shared: Annotated[bool, typer.Option("--shared", help="Keep it as the lab's shared token, used for every "
                                         "user without a token of their own.")] = False,
) -> None:
    """Check a service's token with the service, then keep it for a user (or the whole lab, --shared) in
    the OS keyring (a 0600 file where none exists)."""
    if user is not None and shared:
        raise UsageError("give --user USER or --shared, not both: a token is one user's own or the lab's shared one")
    if sum([token is not None, token_stdin, device, client_id is not None]) != 1:
        raise UsageError("give exactly one of --token TOKEN, --token-stdin, --device or --client-id ID")
    store().get_service(name)  # exit 3 for an unknown service, before a secret is stored
    owner = None if shared else default_owner(user)
    whose = f"user {owner}" if owner else "the whole lab (shared)"
    hub = Hub()
    if device or client_id:
        secret = sys.stdin.readline().strip() if client_id else None
        if client_id and not secret:
            raise UsageError("--client-id needs the client secret on stdin")

        def prompt(url: str, code: str) -> None:
            err.print(f"open {url} in a browser and approve the login (code {code}); waiting ...", markup=False)

        asyncio.run(hub.oauth_login(name, client_id=client_id, client_secret=secret, on_prompt=prompt, user=owner))
        err.print(f"token for {name} stored for {whose} in the {hub.credentials.backend_name}", markup=False)
        return
    value = (sys.stdin.readline() if token_stdin else token or "").strip()
    if not value:
        raise UsageError("the token is empty; paste the API token from the service's profile page")
    info = asyncio.run(_verify(hub, name, SecretStr(value)))
    if info is not None and info.valid is False:
        raise AuthenticationError(name, f"the service rejected this token ({info.message}); create a new API "
                                  "token on the service's profile page")
    if info is not None and info.valid is None:
        err.print(f"warning: {info.message}; storing the token anyway (check it later with "
                  f"`fedimpute services check {name}`)", markup=False)
        info = None
    hub.credentials.set_token(name, value, user=owner)
    who = f" (user {info.user}, expires {info.expires_at:%Y-%m-%d})" if info and info.expires_at else ""
    err.print(f"token for {name} stored for {whose} in the {hub.credentials.backend_name}{who}", markup=False)
    _warn_expiry(name, info)
    if owner and hub.credentials.token_owner(name, owner) == "environment":
        err.print(f"note: {token_env_name(name)} is set in this environment and wins over the stored token",
                  markup=False)


async def _verify(hub: Hub, name: str, token: SecretStr) -> TokenInfo | None:
    """Ask the service about ``token`` where the protocol can; unreachable services only warn."""
    try:
        return await hub.verify_token(name, token)
    except UnknownProtocolError:
        return None
    except TransientServiceError as exc:
        err.print(f"warning: could not verify the token now ({exc}); storing it anyway", markup=False)
        return None


@services_app.command("history")
def service_history(
    name: str,
    days: Annotated[int, typer.Option("--days", help="How many days back (default 7).")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A service's recorded health checks, oldest first, and the share that found it up."""
    if days < 1:
        raise UsageError(f"--days must be 1 or more (got {days}); e.g. --days 7")
    st = store()
    st.get_service(name)  # an unknown service exits 3
    history = st.health_history(name, utcnow() - timedelta(days=days))
    uptime = history.uptime
    if as_json:
        emit_json({"name": name, "uptime": None if uptime is None else round(uptime, 4), "days": days,
                   "since": history.model_dump(mode="json", include={"since"})["since"],
                   "checks": [_health_json(c) for c in history.checks]})
        return
    from rich.text import Text  # service text is shown as text, never as console markup

    table = Table("checked (UTC)", "status", "detail", title=Text(f"health of {name}, last {days} day(s)"))
    for check in history.checks:
        table.add_row(f"{check.checked_at:%Y-%m-%d %H:%M:%S}", check.status.value, Text(check.detail[:80]))
    out.print(table)
    share = "unknown (no checks)" if uptime is None else f"{uptime:.1%} of {len(history.checks)} check(s)"
    out.print(f"uptime: {share}", markup=False)
