"""How the engine is started (``fedimpute engine start`` flags), checked before anything launches.

Exposure rules, failing closed: a non-loopback address needs TLS (or ``--insecure-http``, for a
TLS proxy in front) and at least one partner token (an open engine on a lab network would run
anybody's jobs on the node's machines).
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fedimpute.exceptions import UsageError

__all__ = ["RUNNERS", "EngineOptions", "is_loopback"]

RUNNERS = ("cwltool", "toil")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class EngineOptions:
    runner: str = "cwltool"
    batch_system: str | None = None
    max_cores: int | None = None
    work_dir: str | None = None
    address: str = "127.0.0.1"
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    insecure_http: bool = False

    @property
    def tls(self) -> bool:
        return self.ssl_certfile is not None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.address)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self, *, has_partners: bool) -> EngineOptions:
        """Refuse a combination that cannot work or would expose the node; return the options with
        absolute paths."""
        if self.runner not in RUNNERS:
            raise UsageError(f"--runner must be one of {', '.join(RUNNERS)}, got {self.runner!r}")
        if self.runner != "toil" and (self.batch_system or self.max_cores or self.work_dir):
            raise UsageError("--batch-system, --max-cores and --work-dir are Toil options; add --runner toil")
        if self.max_cores is not None and self.max_cores < 1:
            raise UsageError(f"--max-cores must be 1 or more, got {self.max_cores}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise UsageError("give both --ssl-certfile and --ssl-keyfile, or neither")
        for flag, value in (("--ssl-certfile", self.ssl_certfile), ("--ssl-keyfile", self.ssl_keyfile)):
            if value is not None and not Path(value).is_file():
                raise UsageError(f"{flag} {value} is not a file")
        if not self.loopback:
            if not self.tls and not self.insecure_http:
                raise UsageError(f"refusing to expose the engine on {self.address} without TLS: give --ssl-certfile "
                                 "and --ssl-keyfile, or --insecure-http when a TLS proxy is in front")
            if not has_partners:
                raise UsageError(f"refusing to expose the engine on {self.address} without partner tokens (it would "
                                 "run anybody's jobs); add one with `fedimpute engine tokens add NAME` first")
        def absolute(value: str | None) -> str | None:
            return str(Path(value).expanduser().resolve()) if value else None

        return EngineOptions(self.runner, self.batch_system or ("single_machine" if self.runner == "toil" else None),
                             self.max_cores, absolute(self.work_dir), self.address, absolute(self.ssl_certfile),
                             absolute(self.ssl_keyfile), self.insecure_http)
