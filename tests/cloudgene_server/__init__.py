"""A local simulator of the Cloudgene v2 API (Michigan / TOPMed / H3Africa imputation servers) for tests.

Public interface: CloudgeneSim (server state), Fault (fault injection specs),
create_app (the Starlette ASGI app) and serve_in_thread (uvicorn on a free
port, returning a ServerHandle with .url and .stop()).
"""

from .app import create_app
from .faults import Fault
from .server import ServerHandle, serve_in_thread
from .state import CloudgeneSim

__all__ = ["CloudgeneSim", "Fault", "ServerHandle", "create_app", "serve_in_thread"]
