"""Showing service-provided text safely: always as text, never as markup.

Job names, step messages, panel names and error details come from remote services (Cloudgene
messages carry HTML).  The dashboard never hands such text to the browser as HTML: tables use
Tabulator's ``plaintext``/``textarea`` formatters (they escape), and the few headings built
here pass every value through :func:`html.escape` first.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["PLAINTEXT", "TEXTAREA", "escaped", "note_html", "plain_formatters", "safe_html"]

#: Tabulator formatters that escape the cell value (``sanitizeHTML``) before inserting it.
PLAINTEXT = {"type": "plaintext"}
TEXTAREA = {"type": "textarea"}


def escaped(value: Any) -> str:
    """``value`` as text that HTML shows literally (``None`` becomes an empty string).

    >>> escaped('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return "" if value is None else html.escape(str(value), quote=True)


def safe_html(template: str, **values: Any) -> str:
    """Fill ``template`` (our own trusted markup) with escaped ``values``.

    >>> safe_html("<b>{name}</b>", name="<script>x</script>")
    '<b>&lt;script&gt;x&lt;/script&gt;</b>'
    """
    return template.format(**{key: escaped(value) for key, value in values.items()})


def plain_formatters(columns, *, multiline: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """Tabulator formatters for ``columns``: escaping text everywhere, wrapped for ``multiline``."""
    return {c: dict(TEXTAREA if c in multiline else PLAINTEXT) for c in columns}


def note_html(text: str, *, kind: str = "info") -> str:
    """A one-line notice with escaped ``text`` (empty text gives an empty string).

    >>> note_html("job <b>1</b> failed", kind="error")
    '<div class="fi-note fi-error">job &lt;b&gt;1&lt;/b&gt; failed</div>'
    """
    if not text:
        return ""
    return safe_html('<div class="fi-note fi-{kind}">{text}</div>', kind=kind, text=text)
