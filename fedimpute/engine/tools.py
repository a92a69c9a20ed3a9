"""Command-line tools the engine and the pre-flight fixes need, with install hints."""

from __future__ import annotations

import shutil

from fedimpute.exceptions import FedImputeError

__all__ = ["TOOLS", "missing_tools", "require_tools"]

#: tool -> (Debian package, bioconda package)
TOOLS = {
    "bcftools": ("bcftools", "bcftools"),
    "tabix": ("tabix", "htslib"),
    "bgzip": ("tabix", "htslib"),
    "minimac4": ("minimac4", "minimac4"),
    "beagle": ("beagle", "beagle"),
    "eagle": ("bio-eagle", "eagle2"),  # bioconda's `eagle` is an unrelated web tool
}
_ALIASES = {"eagle": ("bio-eagle", "eagle")}


def _found(tool: str) -> bool:
    return any(shutil.which(name) for name in _ALIASES.get(tool, (tool,)))


def missing_tools(*tools: str) -> list[str]:
    return [t for t in tools if not _found(t)]


def require_tools(*tools: str) -> None:
    """Raise a clear error naming every missing tool and how to install it."""
    missing = missing_tools(*tools)
    if missing:
        debian = " ".join(sorted({TOOLS[t][0] for t in missing}))
        conda = " ".join(sorted({TOOLS[t][1] for t in missing}))
        raise FedImputeError(f"missing command-line tool(s): {', '.join(missing)}; install them with "
                             f"`apt-get install {debian}` (Debian/Ubuntu, as root) or "
                             f"`conda install -c conda-forge -c bioconda {conda}` (or use environment.yml)")
