"""Server-wide setup, run once per ``panel serve`` process before any page is served:

    panel serve apps/dashboard.py --setup apps/auth_setup.py \
        --basic-auth users.json --cookie-secret "$(panel secret)"

It installs the authorization callback (a real 403 before a session starts) and starts the
background monitor once; settings come from FEDIMPUTE_HOME, FEDIMPUTE_ADMINS and friends.
"""

from fedimpute.ui.server import configure_server

configure_server()
