"""Escaping and change detection of the dashboard's tables and notices."""

from __future__ import annotations

import pandas as pd

from fedimpute.ui.tables import make_table, update_table
from fedimpute.ui.text import escaped, note_html, plain_formatters, safe_html


def test_make_table__every_column_escapes_text():
    table = make_table(pd.DataFrame({"name": ["<b>x</b>"], "text": ["a\nb"]}), multiline=("text",))
    assert table.formatters == {"name": {"type": "plaintext"}, "text": {"type": "textarea"}}
    assert table.disabled and not table.show_index and table.sortable is False


def test_update_table__unchanged_data_sends_nothing():
    frame = pd.DataFrame({"job_id": ["a", "b"], "status": ["queued", "running"]})
    table = make_table(frame)
    sent = []
    table.param.watch(lambda e: sent.append(e), "value")
    assert update_table(table, frame.copy()) == "unchanged" and sent == []
    changed = frame.assign(status=["queued", "completed"])
    assert update_table(table, changed) == "replaced" and len(sent) == 1
    assert table.value.equals(changed)


def test_safe_html__escapes_every_value():
    assert safe_html("<b>{a}</b>", a='<img src=x onerror="alert(1)">') == \
        "<b>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</b>"
    assert escaped(None) == "" and note_html("") == ""
    assert "&lt;script&gt;" in note_html("<script>x</script>", kind="error")


def test_plain_formatters__multiline_columns_wrap():
    assert plain_formatters(["a", "b"], multiline=("b",))["b"] == {"type": "textarea"}
