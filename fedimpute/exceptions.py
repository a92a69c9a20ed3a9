"""Every error fedimpute raises on purpose, rooted at :class:`FedImputeError`.

The tree, so callers can catch at the depth they care about::

    FedImputeError                      exit code 1 unless a subclass says otherwise
    ├── UsageError                      bad input or usage (exit 2)
    │   ├── DuplicateServiceError       a service of that name exists
    │   ├── UnknownSettingError         a `--set KEY=` the protocol does not know
    │   ├── UnknownProtocolError        no adapter is registered (or installed) for the protocol
    │   └── NotSupportedError           the protocol cannot do that (cancel, restart, OAuth2 login ...)
    ├── NotFoundError                   unknown service or job (exit 3)
    │   ├── ServiceNotFoundError
    │   └── JobNotFoundError
    ├── CredentialError                 no token, or the secret store failed
    ├── ServiceError                    a service answered badly (carries .service)
    │   ├── AuthenticationError         401: token missing, invalid or expired
    │   ├── PermissionDeniedError       403: revoked token, someone else's job
    │   ├── RemoteNotFoundError         404: unknown job, app or file (exit 3)
    │   ├── RemoteRejectedError         400: the service refused the request
    │   │   ├── QuotaExceededError      "Only N jobs per user can be executed simultaneously."
    │   │   └── DownloadLimitError      "number of max downloads exceeded."
    │   ├── PayloadTooLargeError        413: upload above the service's limit
    │   └── TransientServiceError       worth retrying later
    │       ├── MaintenanceError        503 maintenance
    │       └── ServiceUnavailableError 5xx, timeouts, refused or reset connections, garbage bodies
    ├── ResultError                     a downloaded result cannot be trusted or opened
    │   ├── ResultsExpiredError         the service deleted the results (retention period over)
    │   ├── IntegrityError              size or checksum mismatch, JSON error body instead of data
    │   └── ArchiveError                wrong password, unsafe member path, corrupt archive
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
    "ArchiveError",
    "AuthenticationError",
    "CredentialError",
    "DownloadLimitError",
    "DuplicateServiceError",
    "FedImputeError",
    "IntegrityError",
    "JobNotFoundError",
    "MaintenanceError",
    "MigrationChecksumError",
    "MigrationError",
    "MigrationSequenceError",
    "NotFoundError",
    "NotSupportedError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RemoteNotFoundError",
    "RemoteRejectedError",
    "ResultError",
    "ResultsExpiredError",
    "ServiceError",
    "ServiceNotFoundError",
    "ServiceUnavailableError",
    "StoreError",
    "StoreLockedError",
    "TransientServiceError",
    "UnknownProtocolError",
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


class UnknownProtocolError(UsageError):
    """No adapter for this protocol: a typo on the command line, or a service whose adapter package
    is not installed (it still lists, but cannot be reached)."""


class NotSupportedError(UsageError):
    """The service's protocol cannot do what was asked; the message names the protocol and the way around."""

    def __init__(self, what: str, *, protocol: str, service: str, fix: str = "") -> None:
        super().__init__(f"{what} is not supported by the {protocol} protocol of service {service}"
                         + (f"; {fix}" if fix else ""))
        self.protocol, self.service = protocol, service


class NotFoundError(FedImputeError):
    """A named service or job does not exist."""

    exit_code = 3


class ServiceNotFoundError(NotFoundError):
    """No service of this name in the catalogue."""


class JobNotFoundError(NotFoundError):
    """No job with this id in the store."""


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


class ServiceError(FedImputeError):
    """A service refused or failed a request; ``service`` names it, the message says what to do.
    ``said`` is the service's own words, where it gave any: adapters read their protocol's wording
    there (never in ``detail``, which is fedimpute's sentence around it)."""

    def __init__(self, service: str, message: str, *, status_code: int | None = None, said: str = "") -> None:
        super().__init__(f"{service}: {message}")
        self.service, self.status_code, self.detail, self.said = service, status_code, message, said


class AuthenticationError(ServiceError):
    """HTTP 401: the token is missing, malformed or expired."""


class PermissionDeniedError(ServiceError):
    """HTTP 403: a revoked or replaced token, or someone else's job."""


class RemoteNotFoundError(ServiceError):
    """HTTP 404 from the service: no such job, app or file there."""

    exit_code = 3


class RemoteRejectedError(ServiceError):
    """HTTP 400: the service refused the request as made."""


class QuotaExceededError(RemoteRejectedError):
    """The per-user limit of simultaneous jobs is reached; ``limit`` is N from the message."""

    def __init__(self, service: str, message: str, *, limit: int | None = None, status_code: int = 400) -> None:
        super().__init__(service, message, status_code=status_code)
        self.limit = limit


class DownloadLimitError(RemoteRejectedError):
    """The file's download counter is used up."""


class PayloadTooLargeError(ServiceError):
    """HTTP 413: the upload is above the service's size limit."""


class TransientServiceError(ServiceError):
    """A failure that says nothing about the request itself: retry later."""


class MaintenanceError(TransientServiceError):
    """HTTP 503: the service is in maintenance mode."""


class ServiceUnavailableError(TransientServiceError):
    """5xx, timeouts, refused or reset connections, or a body that is not the expected JSON."""


class ResultError(FedImputeError):
    """A result file cannot be trusted or opened."""


class ResultsExpiredError(ResultError):
    """The service has deleted the job's results (retired after its retention period)."""


class IntegrityError(ResultError):
    """The bytes on disk are not what the service said it sent."""


class ArchiveError(ResultError):
    """A result archive cannot be opened safely (password, unsafe member path, corruption)."""
