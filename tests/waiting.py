"""Waiting for a condition, never for a fixed time: the one poll loop the tests share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["await_for", "wait_for"]


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "the condition",
             every: float = 0.05) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


async def await_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "the condition",
                    every: float = 0.05) -> None:
    """:func:`wait_for` inside an event loop (the loop keeps running while it waits)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)
