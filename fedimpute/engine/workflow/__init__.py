"""The CWL imputation workflow shipped with fedimpute (see impute.cwl)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["workflow_path"]


def workflow_path() -> Path:
    """The main workflow file; its folder holds the tools it runs."""
    return Path(__file__).with_name("impute.cwl")
