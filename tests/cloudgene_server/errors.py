"""Exceptions that the HTTP layer turns into responses.

Why two kinds: Cloudgene's own errors use the `{"message", "success": false}`
envelope, while authentication failures are produced by the web framework
(Micronaut security) with a different body that clients must not parse.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error raised by Cloudgene itself: rendered with the message envelope."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class FrameworkError(Exception):
    """A framework-generated error (401, 403, 404, 405, 415) with a Micronaut-like body."""

    REASONS = {
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        415: "Unsupported Media Type",
    }

    def __init__(self, status: int):
        super().__init__(self.REASONS.get(status, "Error"))
        self.status = status

    def body(self, path: str) -> dict:
        reason = self.REASONS.get(self.status, "Error")
        detail = "Page Not Found" if self.status == 404 else reason
        return {
            "message": reason,
            "_links": {"self": {"href": path, "templated": False}},
            "_embedded": {"errors": [{"message": detail}]},
        }
