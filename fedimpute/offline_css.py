"""Panel's stylesheets carried inside an exported page, so it looks right with no network.

Panel components in a notebook output name their stylesheets by CDN URL
(``https://cdn.holoviz.org/panel/<version>/dist/css/loading.css``) even when their JavaScript
is inlined; offline, the page then loses its layout styles.  The same files ship inside the
installed ``panel`` package, so each such URL is replaced by a ``data:`` URL of the local file,
with the images the CSS points at (``url('../assets/x.svg')``) inlined the same way.
URLs of files the installed Panel does not have are left alone and reported.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

__all__ = ["inline_panel_css", "panel_dist"]

_PANEL_CSS_URL = re.compile(
    r"https?:(?:\\?/){2}cdn\.holoviz\.org(?:\\?/)panel(?:\\?/)[^/\\\"'\s]+(?:\\?/)dist(?:\\?/)"
    r"((?:[A-Za-z0-9_.-]+(?:\\?/))*[A-Za-z0-9_.-]+\.css)(?:\?v=[A-Za-z0-9_.+-]*)?"
)
_CSS_RELATIVE_URL = re.compile(r"url\(\s*(['\"]?)(?!data:|https?:|//|#)([^'\")\s]+)\1\s*\)")


def panel_dist() -> Path | None:
    """The ``dist`` folder of the installed Panel, or None without Panel."""
    try:
        import panel
    except ImportError:
        return None
    return Path(panel.__file__).resolve().parent / "dist"


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _css_with_assets(path: Path, dist: Path) -> str:
    """The stylesheet with its relative ``url(...)`` references inlined (those inside ``dist``)."""

    def inline(match: re.Match[str]) -> str:
        target = (path.parent / match.group(2)).resolve()
        if not target.is_relative_to(dist) or not target.is_file():
            return match.group(0)
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return f"url('{_data_url(target.read_bytes(), mime)}')"

    return _CSS_RELATIVE_URL.sub(inline, path.read_text(encoding="utf-8"))


def inline_panel_css(html: str, dist: Path | None = None) -> tuple[str, list[str]]:
    """Replace Panel CDN stylesheet URLs in ``html`` by data URLs of the installed files.

    Returns the page and the URLs that could not be inlined (not in the installed Panel).
    """
    dist = (dist or panel_dist() or Path("/nonexistent")).resolve()
    cache: dict[str, str] = {}
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        relative = match.group(1).replace("\\/", "/")
        if relative not in cache:
            path = (dist / relative).resolve()
            if not path.is_relative_to(dist) or not path.is_file():
                missing.append(match.group(0))
                return match.group(0)
            cache[relative] = _data_url(_css_with_assets(path, dist).encode("utf-8"), "text/css")
        return cache[relative]

    return _PANEL_CSS_URL.sub(replace, html), missing
