"""The pre-flight report: what ``fedimpute check --json`` prints and ``submit`` acts on.

The JSON shape is the CLI contract (shared/contracts/cli.md): ``{ok, files: [{path, chromosomes,
build, samples, variants, checks: [{id, status, message, fix}]}]}``.  The models carry nothing
else, so ``model_dump(mode="json")`` *is* the contract document.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CheckResult", "CheckStatus", "FileReport", "PreflightReport"]


class CheckStatus(StrEnum):
    """``fail`` means the service would reject the job; ``warn`` means data would be dropped."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckResult(_Model):
    """One verdict: ``message`` names the problem with numbers and examples, ``fix`` says what to run."""

    id: str
    status: CheckStatus
    message: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is CheckStatus.FAIL


class FileReport(_Model):
    """Everything checked about one input file; ``build`` is the build given, else the one detected."""

    path: str
    chromosomes: list[str] = Field(default_factory=list)
    build: str | None = None
    samples: int | None = None
    variants: int | None = None
    checks: list[CheckResult] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.failed for c in self.checks)

    def check(self, check_id: str) -> CheckResult | None:
        """The verdict of one check, or None when it did not apply to this file."""
        return next((c for c in self.checks if c.id == check_id), None)

    def add(self, check_id: str, status: CheckStatus | str, message: str, fix: str | None = None) -> CheckResult:
        result = CheckResult(id=check_id, status=CheckStatus(status), message=message, fix=fix)
        self.checks.append(result)
        return result


class PreflightReport(_Model):
    """The verdicts for a set of files that would be submitted together."""

    ok: bool = True
    files: list[FileReport] = Field(default_factory=list)

    def failures(self) -> list[tuple[str, CheckResult]]:
        """``(path, check)`` for every failing check, in file order."""
        return [(f.path, c) for f in self.files for c in f.checks if c.failed]

    def summary(self) -> str:
        """One line for a log or an error: how many files, fails and warnings."""
        fails = sum(c.status is CheckStatus.FAIL for f in self.files for c in f.checks)
        warns = sum(c.status is CheckStatus.WARN for f in self.files for c in f.checks)
        return f"{len(self.files)} file(s): {fails} failing check(s), {warns} warning(s)"

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON document."""
        return self.model_dump(mode="json")
