"""Server-wide set-up for ``panel serve``, run once per process before any page is served.

With accounts in the home (``fedimpute users add``), sign-in is fedimpute's own, loaded as a Bokeh
auth module, and sessions are signed::

    BOKEH_SIGN_SESSIONS=yes BOKEH_SECRET_KEY=... \
    panel serve apps/dashboard.py --setup apps/auth_setup.py --auth-module apps/auth_module.py

The set-up refuses to start on anything that would open the dashboard (``--basic-auth``,
``--cookie-secret`` on the command line, ``--liveness``, a home others can write, a users file
others can read, no cookie secret), then starts the background monitor once.  ``fedimpute serve``
does all of this by itself.
"""

from fedimpute.ui.server import configure_server

configure_server()
