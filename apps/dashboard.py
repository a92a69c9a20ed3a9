"""The dashboard for ``panel serve apps/dashboard.py`` (see fedimpute.ui.server for sign-in)."""

import panel as pn

from fedimpute.ui import create_app

pn.extension("tabulator", "filedropper")
create_app().servable(title="fedimpute")
