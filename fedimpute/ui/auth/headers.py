"""Security headers on every response of the lab server, error pages and redirects included.

``panel serve --setup`` cannot pass Tornado ``transforms``, and one set-up serves both routes, so
the server's ``RequestHandler.set_default_headers`` (Tornado's hook for headers every handler
starts with) is extended once per process.  Panel's pages run inline scripts and Bokeh compiles
models with ``new Function``, hence ``'unsafe-inline' 'unsafe-eval'`` for scripts; everything is
same-origin (no CDN), and no other site may frame the dashboard.
"""

from __future__ import annotations

from tornado.web import RequestHandler

__all__ = ["CSP", "install_security_headers"]

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
       "frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'")
_ORIGINAL = RequestHandler.set_default_headers


def install_security_headers(*, tls: bool) -> None:
    """Add CSP, ``nosniff``, a same-origin referrer policy (and HSTS under TLS) to every response."""
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin", "X-Frame-Options": "SAMEORIGIN"}
    if tls:
        headers["Strict-Transport-Security"] = "max-age=31536000"

    def set_default_headers(self: RequestHandler) -> None:
        _ORIGINAL(self)
        for name, value in headers.items():
            self.set_header(name, value)

    RequestHandler.set_default_headers = set_default_headers  # type: ignore[method-assign]
