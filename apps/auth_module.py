"""fedimpute's sign-in as a Bokeh auth module (``panel serve ... --auth-module apps/auth_module.py``).

Loaded before the set-up script (``apps/auth_setup.py``), which then checks that it was."""

from fedimpute.ui.server import panel_serve_auth

_provider = panel_serve_auth()
get_user = _provider.get_user
login_url = _provider.login_url
LoginHandler = _provider.login_handler
logout_url = _provider.logout_url
LogoutHandler = _provider.logout_handler
