"""The ``local`` protocol: the local engine (a sapporo WES server on this machine), driven through
the WES adapter.

What makes it the local engine lives here, not in the WES adapter: settings that default to the
shipped workflow and the engine's panel registry (``panels=local``, which any WES service may also
name), and a health detail that says how to start the engine when it is not running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from fedimpute.models import HealthRecord, HealthStatus
from fedimpute.services.base import SubmitOptions
from fedimpute.services.settings import ServiceSettings
from fedimpute.services.wes import LOCAL_REGISTRY, WesService, WesSettings

__all__ = ["LocalService", "LocalSettings"]



class LocalSettings(WesSettings):
    workflow: str | None = Field(default="impute", description="'impute' (the workflow shipped with fedimpute) "
                                 "or a workflow file")
    engine: str | None = Field(default=None, description="workflow engine name (default: the one the server lists)")
    panels: str | None = Field(default=LOCAL_REGISTRY, description="'local' for the local engine's panel registry, "
                               "or a JSON list as for WES")
    chunk_size: int | None = Field(default=None, ge=100_000, description="chunk length in bp (default 20000000, "
                                   "as the servers)")
    chunk_flank: int | None = Field(default=None, ge=0, description="bp of context on each side of a chunk "
                                    "(default 5000000)")


class LocalService(WesService):
    protocol: ClassVar[str] = "local"
    Settings: ClassVar[type[ServiceSettings]] = LocalSettings

    def _params(self, files: list[Path], options: SubmitOptions) -> dict[str, Any]:
        """The WES parameters, plus the chunking the service entry asks for (the workflow's defaults else)."""
        params = super()._params(files, options)
        settings = self.settings
        assert isinstance(settings, LocalSettings)
        for key in ("chunk_size", "chunk_flank"):
            if (value := getattr(settings, key)) is not None:
                params[key] = value
        return params

    async def health(self) -> HealthRecord:
        record = await super().health()
        if record.status is HealthStatus.DOWN:
            return record.model_copy(update={"detail": f"{record.detail}; the local engine is not running: "
                                                       "start it with `fedimpute engine start`"})
        return record
