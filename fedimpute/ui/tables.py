"""Tabulator tables that escape their text and are re-sent only when their data changed.

A periodic refresh that reassigns a table re-sends and re-renders every row for every
session, every tick; :func:`update_table` compares first and sends nothing when the data is
unchanged.  A changed page is replaced whole (at most one page of rows): ``Tabulator.patch``
would send less, but with pandas 3 (copy-on-write) Panel 1.9 renders a re-shown table from
its pre-patch copy, so a view opened after a patch showed stale cells.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
import panel as pn

from fedimpute.ui.text import plain_formatters

__all__ = ["make_table", "update_table"]

Update = Literal["unchanged", "replaced"]


def make_table(frame: pd.DataFrame, *, titles: dict[str, str] | None = None, multiline: tuple[str, ...] = (),
               hidden: list[str] | None = None, **kwargs) -> pn.widgets.Tabulator:
    """A read-only Tabulator whose every column escapes its text (``plaintext`` formatters).

    Header sorting is off: tables show one page that SQL already ordered.
    """
    options = {"disabled": True, "show_index": False, "sizing_mode": "stretch_width", "layout": "fit_data_table",
               "sortable": False}
    options.update(kwargs)
    return pn.widgets.Tabulator(frame, formatters=plain_formatters(frame.columns, multiline=multiline),
                                titles=titles or {}, hidden_columns=hidden or [], **options)


def update_table(table: pn.widgets.Tabulator, new: pd.DataFrame) -> Update:
    """Show ``new`` in ``table`` unless it equals what the table holds (then nothing is sent)."""
    old = table.value
    if old is not None and old.equals(new):
        return "unchanged"
    table.value = new
    return "replaced"
