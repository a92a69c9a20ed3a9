"""Which (service, panel) pairs the advisor can judge locally, and where their sites come from.

A panel's sites are known locally when

1. the user registered them: ``fedimpute panels add-sites SERVICE PANEL_ID FILE`` converts the file
   into ``FEDIMPUTE_HOME/panel-sites/<service>/<panel_id>/`` (:mod:`fedimpute.advise.sites`);
2. the service runs on this machine's engine registry (``local``, or WES with ``panels=local``):
   every registered engine panel has ``panel.sites.vcf.gz``;
3. a WES service's panels file gives the panel a sites file: an entry's ``sites`` (a path), or
   its ``params.panel_sites`` (a CWL File whose ``path`` or ``file://`` location is on this machine).

Sources 2 and 3 are converted on first use into the same folder and converted again when the
source file changes; a registration (1) wins over them.  No table in the store: the folder and
its manifest are the registration, as for the engine's own panel registry.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from fedimpute.advise.sites import SitesTable, convert_sites, read_manifest, source_stamp
from fedimpute.exceptions import UsageError
from fedimpute.models import ReferencePanel, ServiceConfig
from fedimpute.paths import home_dir

__all__ = ["Candidate", "has_sites", "panel_sites_dir", "register_sites", "registered_sites", "service_panels",
           "sites_source", "sites_table"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


@dataclass(frozen=True)
class Candidate:
    """One (service, panel) pair to judge; ``panel`` is the catalogue's entry when known."""

    service: str
    panel_id: str
    protocol: str
    panel: ReferencePanel | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.service, self.panel_id


def panel_sites_dir(home: Path | None = None) -> Path:
    return home_dir(home) / "panel-sites"


def _folder(home: Path | None, service: str, panel_id: str) -> Path:
    for what, value in (("service", service), ("panel id", panel_id)):
        if not _SAFE.match(value):
            raise UsageError(f"{what} {value!r} cannot name a folder: use letters, digits and . _ @ + -")
    return panel_sites_dir(home) / service / panel_id


def register_sites(service: ServiceConfig, panel_id: str, file: Path, *, home: Path | None = None) -> SitesTable:
    """Convert ``file`` and keep it as ``panel_id``'s sites for ``service`` (replacing an older registration)."""
    folder = _folder(home, service.name, panel_id)
    staging = folder.with_name(folder.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        convert_sites(Path(file), staging, service=service.name, panel_id=panel_id, registered=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    table = read_manifest(folder)
    assert table is not None  # just written
    return table


def registered_sites(home: Path | None = None) -> list[SitesTable]:
    """Every registration made with ``panels add-sites`` (not the automatic conversions)."""
    root = panel_sites_dir(home)
    tables = [read_manifest(p.parent) for p in sorted(root.glob("*/*/manifest.json"))] if root.is_dir() else []
    return [t for t in tables if t is not None and t.manifest.get("registered")]


def _registry_mode(service: ServiceConfig) -> str | None:
    """The service's ``panels`` setting: 'local' for the engine registry, a JSON file path, or None."""
    if service.protocol == "local":
        return service.settings.get("panels", "local")
    if service.protocol == "wes":
        return service.settings.get("panels")
    return None


def service_panels(service: ServiceConfig, home: Path | None = None) -> list[ReferencePanel]:
    """The panels a local or WES service declares on this machine (engine registry or panels file; no
    network), whether or not they were discovered into the store yet."""
    mode = _registry_mode(service)
    if mode == "local":
        from fedimpute.engine.panels import registry_panels

        return registry_panels(service.name, home)
    if not mode:
        return []
    from fedimpute.services.wes import panel_from_entry

    try:
        entries = json.loads(Path(mode).expanduser().read_text(encoding="utf-8"))
        return [panel_from_entry(service.name, e) for e in entries if isinstance(e, dict) and e.get("panel_id")]
    except (OSError, ValueError, TypeError):
        return []


def sites_source(service: ServiceConfig, panel_id: str, home: Path | None = None) -> Path | None:
    """The sites file the service itself gives for ``panel_id`` (sources 2 and 3), if on this machine."""
    mode = _registry_mode(service)
    if mode == "local":
        from fedimpute.engine.panels import panels_dir

        manifest = panels_dir(home) / panel_id / "manifest.json"
        if not manifest.is_file():
            return None
        name = json.loads(manifest.read_text()).get("files", {}).get("panel_sites")
        path = manifest.parent / name if name else None
        return path if path is not None and path.is_file() else None
    if mode:
        try:
            entries = json.loads(Path(mode).expanduser().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entry = next((e for e in entries if isinstance(e, dict) and e.get("panel_id") == panel_id), None)
        return _entry_sites(entry, Path(mode).expanduser().parent) if entry else None
    return None


def _entry_sites(entry: dict[str, Any], base: Path) -> Path | None:
    value = entry.get("sites") or (entry.get("params") or {}).get("panel_sites")
    if isinstance(value, dict):
        value = value.get("path") or value.get("location")
    if not isinstance(value, str):
        return None
    if value.startswith("file://"):
        value = unquote(urlparse(value).path)
    elif "://" in value:
        return None  # on another machine
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    return path if path.is_file() else None


def has_sites(service: ServiceConfig, panel_id: str, home: Path | None = None) -> bool:
    """Whether ``panel_id``'s sites are known here, without converting anything (listing stays quick)."""
    try:
        table = read_manifest(_folder(home, service.name, panel_id))
    except UsageError:
        return False
    return (table is not None and bool(table.manifest.get("registered"))) or sites_source(service, panel_id,
                                                                                          home) is not None


def sites_table(service: ServiceConfig, panel_id: str, home: Path | None = None) -> SitesTable | None:
    """The converted sites of ``panel_id`` at ``service``: the registration, else the service's own
    sites file (converted now when new or changed), else None."""
    try:
        folder = _folder(home, service.name, panel_id)
    except UsageError:
        return None
    table = read_manifest(folder)
    if table is not None and table.manifest.get("registered"):
        return table
    source = sites_source(service, panel_id, home)
    if source is None:
        return None
    stamp = source_stamp(source)
    if table is not None and all(table.manifest.get(k) == v for k, v in stamp.items()):
        return table
    shutil.rmtree(folder, ignore_errors=True)
    return convert_sites(source, folder, service=service.name, panel_id=panel_id, registered=False)
