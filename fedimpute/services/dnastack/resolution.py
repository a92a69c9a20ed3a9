"""Which namespace, engine and workflow a Workbench run uses: a setting each, else looked up once.

The namespace falls back to the user's default namespace (user service), then to the token's
subject; the engine to the one Workbench marks ``default``; the workflow to the latest version
of ``workflow_name`` in Workbench's workflow registry.  Whatever cannot be resolved is a
UsageError that names the setting and the command that sets it.
"""

from __future__ import annotations

from urllib.parse import quote

from fedimpute.exceptions import UsageError
from fedimpute.services.dnastack.discovery import Discovery
from fedimpute.services.dnastack.parameters import DnastackSettings
from fedimpute.services.tokens import jwt_claims

__all__ = ["WES", "Resolution", "set_hint"]

WES = "/ga4gh/wes/v1"


def set_hint(service: str, key: str, value: str, problem: str) -> str:
    """``problem``, and the ``services add ... --set key=value --replace`` line that fixes it."""
    return (f"{service}: {problem}; set the {key} setting (`fedimpute services add {service} "
            f"--protocol dnastack --url URL --set {key}={value} --replace`)")


class Resolution(Discovery):
    """Namespace, engine and workflow of :class:`~fedimpute.services.dnastack.adapter.DnastackService`."""

    settings: DnastackSettings
    _namespace: str | None = None
    _engine: str | None = None
    _workflow: str | None = None

    async def namespace(self) -> str:
        """The ``namespace`` setting, else the user's default namespace, else the token's subject."""
        if self._namespace is None:
            users = (await self.endpoints()).users
            if users:
                me = await self.request_json("GET", f"{users}/users/me", what="user profile")
                found = me.get("default_namespace") if isinstance(me, dict) else None
                self._namespace = str(found) if found else None
            if self._namespace is None:
                self._namespace = str(jwt_claims(self.token).get("sub") or "") or None
            if self._namespace is None:
                raise UsageError(set_hint(self.name, "namespace", "<namespace id>",
                                          "the Workbench did not say which namespace to use"))
        return self._namespace

    async def wes_url(self, path: str = "") -> str:
        """``{ewes}/{namespace}/ga4gh/wes/v1{path}``."""
        return f"{(await self.endpoints()).ewes}/{quote(await self.namespace(), safe='')}{WES}{path}"

    async def engine_id(self) -> str:
        """The ``engine_id`` setting, else the engine Workbench marks ``default``."""
        if self._engine is None:
            ewes, ns = (await self.endpoints()).ewes, quote(await self.namespace(), safe="")
            data = await self.request_json("GET", f"{ewes}/{ns}/engines", what="engine list")
            engines = [e for e in data.get("engines") or [] if isinstance(e, dict) and e.get("id")]
            chosen = [e for e in engines if e.get("default")] or (engines if len(engines) == 1 else [])
            if not chosen:
                ids = ", ".join(str(e["id"]) for e in engines) or "none visible"
                raise UsageError(set_hint(self.name, "engine_id", "<engine id>",
                                          f"no default engine in namespace {ns} (engines: {ids})"))
            self._engine = str(chosen[0]["id"])
        return self._engine

    async def workflow_url(self) -> str:
        """The ``workflow_url`` setting, else the latest version of ``workflow_name``."""
        if self._workflow is None:
            name = self.settings.workflow_name
            if not name:
                raise UsageError(
                    f"{self.name}: no workflow chosen; set the workflow_name setting to the imputation "
                    "workflow's name in the Workbench registry, or workflow_url to "
                    f"'<workflow id>/<version id>' (`fedimpute services add {self.name} --protocol dnastack "
                    "--url URL --set workflow_name=NAME --replace`)")
            self._workflow = await self._find_workflow(name)
        return self._workflow

    async def _find_workflow(self, name: str) -> str:
        base = (await self.endpoints()).workflows
        if not base:
            raise UsageError(set_hint(self.name, "workflow_url", "<workflow id>/<version id>",
                                      "the service registry lists no workflow service to look names up in"))
        root = f"{base}/{quote(await self.namespace(), safe='')}/workflows"
        data = await self.request_json("GET", root, params={"search": name}, what=f"workflow search for {name!r}")
        found = [w for w in data.get("workflows") or [] if isinstance(w, dict) and not w.get("deleted")
                 and str(w.get("name", "")).casefold() == name.casefold()]
        if len(found) != 1:
            problem = "no workflow" if not found else f"{len(found)} workflows"
            raise UsageError(set_hint(self.name, "workflow_url", "<workflow id>/<version id>",
                                      f"{problem} named {name!r} in the Workbench workflow registry"))
        workflow_id = str(found[0].get("internalId") or found[0].get("id"))
        version = found[0].get("latestVersion") or await self._latest_version(root, workflow_id)
        return f"{workflow_id}/{version}"

    async def _latest_version(self, root: str, workflow_id: str) -> str:
        data = await self.request_json("GET", f"{root}/{quote(workflow_id, safe='')}/versions",
                                       what=f"versions of workflow {workflow_id}")
        versions = [v for v in data.get("versions") or [] if isinstance(v, dict) and v.get("id")
                    and not v.get("deleted")]
        if not versions:
            raise UsageError(set_hint(self.name, "workflow_url", "<workflow id>/<version id>",
                                      f"workflow {workflow_id} has no usable version"))
        newest = max(enumerate(versions), key=lambda iv: (str(iv[1].get("createdAt") or ""), iv[0]))[1]
        return str(newest["id"])
