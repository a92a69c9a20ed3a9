"""Service messages arrive with HTML (``<b>``, ``<br>``, progress ``<div>``s, links).

They are stored and shown as plain text, never rendered, so a message can never run
script in the dashboard; line breaks and link targets survive as text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"}
_SKIP = {"script", "style"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag in _BREAKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        elif tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "a" and self._href:
            if self._href.startswith("mailto:") or self._href.startswith("http"):
                self.parts.append(f" ({self._href.removeprefix('mailto:')})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of ``markup``: tags dropped, entities decoded, blank runs collapsed.

    >>> html_to_text("<b>Statistics:</b><br>Match: 7,735 &amp; more<script>alert(1)</script>")
    'Statistics:\\nMatch: 7,735 & more'
    """
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    text = "".join(collector.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
