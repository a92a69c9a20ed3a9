"""A notice bound to a text parameter, escaped (service error text can hold markup)."""

from __future__ import annotations

import panel as pn

from fedimpute.ui.text import note_html

__all__ = ["NOTE_CSS", "note"]

NOTE_CSS = """
.fi-note {padding: 6px 10px; border-radius: 4px; background: #eef3f8; white-space: pre-wrap;}
.fi-note.fi-error {background: #fdecea; color: #8a1c1c;}
.fi-note.fi-ok {background: #e8f5e9; color: #1b5e20;}
.fi-note.fi-warn {background: #fff8e1; color: #6d4c00;}
"""


def note(text_param, *, kind: str = "info", **kwargs) -> pn.pane.HTML:
    """An HTML pane showing the parameter's current text as an escaped notice."""
    return pn.pane.HTML(pn.bind(lambda text: note_html(text, kind=kind), text_param),
                        stylesheets=[NOTE_CSS], sizing_mode="stretch_width", **kwargs)
