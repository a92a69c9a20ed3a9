"""The ``local`` protocol: the local engine (a sapporo WES server on this machine), driven through
the WES adapter.

What makes it the local engine lives here, not in the WES adapter: settings that default to the
shipped workflow and the engine's panel registry (``panels=local``, which any WES service may also
name), and a health detail that says how to start the engine when it is not running.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from fedimpute.models import HealthRecord, HealthStatus
from fedimpute.services.settings import ServiceSettings
from fedimpute.services.wes import LOCAL_REGISTRY, WesService, WesSettings

__all__ = ["LocalService", "LocalSettings"]



class LocalSettings(WesSettings):
    workflow: str | None = Field(default="impute", description="'impute' (the workflow shipped with fedimpute) "
                                 "or a workflow file")
    engine: str | None = Field(default=None, description="workflow engine name (default: the one the server lists)")
    panels: str | None = Field(default=LOCAL_REGISTRY, description="'local' for the local engine's panel registry, "
                               "or a JSON list as for WES")


class LocalService(WesService):
    protocol: ClassVar[str] = "local"
    Settings: ClassVar[type[ServiceSettings]] = LocalSettings

    async def health(self) -> HealthRecord:
        record = await super().health()
        if record.status is HealthStatus.DOWN:
            return record.model_copy(update={"detail": f"{record.detail}; the local engine is not running: "
                                                       "start it with `fedimpute engine start`"})
        return record
