"""An in-process fake of DNAstack Workbench for tests, built only from the documented shapes
(service registry, OAuth2 token and device endpoints, user service, workflow registry and
ewes runs; see /work/shared/reference/wes-and-dnastack.md section 7).

Public interface: FakeWorkbench (the state tests drive), create_app (the Starlette app),
serve_in_thread (uvicorn on a free port, returning a handle with .url and .stop()), and the
pytest fixtures in :mod:`tests.dnastack_fake.fixtures`.
"""

from .app import create_app
from .server import ServerHandle, serve_in_thread
from .state import FakeWorkbench, make_token

__all__ = ["FakeWorkbench", "ServerHandle", "create_app", "make_token", "serve_in_thread"]
