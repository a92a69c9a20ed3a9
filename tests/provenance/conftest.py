"""Helpers for the provenance tests: run `fedimpute provenance`, read a crate back, look for secrets."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from rocrate.rocrate import ROCrate

from tests.conftest import ROOT

# `fedimpute provenance` through the real entry point (fedimpute.cli.main).  Until the command is
# registered in fedimpute/cli/__init__.py it is added here first, exactly as registration does.
_ENTRY = (
    "import sys\n"
    "from fedimpute.cli import app, main\n"
    "from fedimpute.cli.provenance import provenance\n"
    "if not any((c.name or c.callback.__name__) == 'provenance' for c in app.registered_commands):\n"
    "    app.command('provenance')(provenance)\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run_provenance(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``fedimpute provenance ARGS`` in a subprocess (``env``: the whole environment, when given)."""
    return subprocess.run([sys.executable, "-c", _ENTRY, "provenance", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_crate(source: Path) -> ROCrate:
    """The crate as ro-crate-py reads it (a folder or a zip)."""
    return ROCrate(source)


def entity(crate: ROCrate, entity_id: str) -> dict:
    found = crate.get(entity_id)
    assert found is not None, f"{entity_id} missing; entities: {[e.id for e in crate.get_entities()]}"
    return found.properties()


def facts(crate: ROCrate, entity_id: str) -> dict:
    """``{name: value}`` of an entity's ``additionalProperty`` (PropertyValue entities)."""
    refs = entity(crate, entity_id).get("additionalProperty") or []
    return {entity(crate, r["@id"])["name"]: entity(crate, r["@id"])["value"] for r in refs}


def by_type(crate: ROCrate, entity_type: str) -> list[dict]:
    return [e.properties() for e in crate.get_by_type(entity_type)]


def crate_texts(path: Path) -> dict[str, str]:
    """Every file of a crate folder or zip, as text (name -> content)."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return {n: archive.read(n).decode("utf-8", "replace") for n in archive.namelist()}
    return {str(p.relative_to(path)): p.read_text("utf-8", "replace") for p in path.rglob("*") if p.is_file()}


def assert_no_secret(texts: dict[str, str], *secrets: str) -> None:
    for name, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret is in {name}"


def option_values(crate: ROCrate) -> dict:
    return {e["name"]: e["value"] for e in by_type(crate, "PropertyValue") if e["@id"].startswith("#option-")}


def metadata(path: Path) -> dict:
    return json.loads((path / "ro-crate-metadata.json").read_text())
