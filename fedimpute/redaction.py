"""Keep secrets out of logs.

Every secret fedimpute handles is registered here where it enters the process
(reading a token, receiving a result password).  Registering the first secret
installs a log-record factory that masks registered values in each record's
rendered message and traceback text *as the record is created*, so no handler,
formatter or test capture (for any logger, ours or a library's) ever sees them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

__all__ = ["MASK", "redact", "register_secret"]

MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that it is masked wherever it would be logged."""
    if not value or len(value) < 4:
        return
    with _lock:
        _secrets.add(value)
    _install_factory()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first)."""
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _install_factory() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: let logging report it as usual
                return record
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_info:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
