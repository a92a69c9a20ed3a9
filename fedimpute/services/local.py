"""The ``local`` protocol: the local engine, driven through the WES adapter.

Settings default to the shipped workflow and the local panel registry, and health says
how to start the engine when it is not running.
"""

from __future__ import annotations

from typing import ClassVar

from fedimpute.models import HealthRecord, HealthStatus
from fedimpute.services.wes import WesService

__all__ = ["LocalService"]


class LocalService(WesService):
    protocol: ClassVar[str] = "local"

    def __init__(self, config, client, token) -> None:
        settings = {"workflow": "impute", "panels": "local", **config.settings}
        super().__init__(config.model_copy(update={"settings": settings}), client, token)

    async def health(self) -> HealthRecord:
        record = await super().health()
        if record.status is HealthStatus.DOWN:
            return record.model_copy(update={"detail": f"{record.detail}; the local engine is not running: "
                                                       "start it with `fedimpute engine start`"})
        return record
