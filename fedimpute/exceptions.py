"""Every error fedimpute raises on purpose, rooted at :class:`FedImputeError`.

The tree, so callers can catch at the depth they care about::

    FedImputeError                      exit code 1 unless a subclass says otherwise
    ├── UsageError                      bad input or usage (exit 2)
    │   ├── DuplicateServiceError       a service of that name exists
    │   └── UnknownSettingError         a `--set KEY=` the protocol does not know
    ├── NotFoundError                   unknown service or job (exit 3)
    │   ├── ServiceNotFoundError
    │   └── JobNotFoundError
    ├── NotAvailableError               the capability arrives in a later release (exit 1)
    ├── CredentialError                 no token, or the secret store failed
    └── StoreError                      the DuckDB store
        ├── StoreLockedError            another process kept the file locked too long
        └── MigrationError
            ├── MigrationChecksumError  an applied migration file was edited
            └── MigrationSequenceError  the database is newer than this code

Each message names the problem *and* what to do about it, because the CLI prints
``str(error)`` as its one line of output.
"""

from __future__ import annotations

__all__ = [
    "CredentialError",
    "DuplicateServiceError",
    "FedImputeError",
    "JobNotFoundError",
    "MigrationChecksumError",
    "MigrationError",
    "MigrationSequenceError",
    "NotAvailableError",
    "NotFoundError",
    "ServiceNotFoundError",
    "StoreError",
    "StoreLockedError",
    "UnknownSettingError",
    "UsageError",
]


class FedImputeError(Exception):
    """Root of fedimpute's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UsageError(FedImputeError):
    """The caller asked for something malformed; fixing the input fixes it."""

    exit_code = 2


class DuplicateServiceError(UsageError):
    """A service with this name is already in the catalogue."""


class UnknownSettingError(UsageError):
    """A protocol setting key that the protocol does not define."""


class NotFoundError(FedImputeError):
    """A named service or job does not exist."""

    exit_code = 3


class ServiceNotFoundError(NotFoundError):
    """No service of this name in the catalogue."""


class JobNotFoundError(NotFoundError):
    """No job with this id in the store."""


class NotAvailableError(FedImputeError):
    """A command whose capability is not built yet: says so instead of pretending."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not available yet: {what}")
        self.what = what


class CredentialError(FedImputeError):
    """A token or password could not be read or stored."""


class StoreError(FedImputeError):
    """The DuckDB store could not do what was asked."""


class StoreLockedError(StoreError):
    """Another process held the database file for longer than the retry budget."""


class MigrationError(StoreError):
    """The schema migrations cannot be applied safely."""


class MigrationChecksumError(MigrationError):
    """A migration that was already applied has been edited since."""


class MigrationSequenceError(MigrationError):
    """The database records a migration that this code does not ship."""
