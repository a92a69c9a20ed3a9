"""fedimpute's DuckDB store (``FEDIMPUTE_HOME/fedimpute.duckdb``).

>>> from fedimpute.store import Store
>>> store = Store()                     # doctest: +SKIP
>>> [s.name for s in store.list_services()]   # doctest: +SKIP
['h3africa', 'michigan', 'topmed']
"""

from __future__ import annotations

from fedimpute.store.catalogue import CatalogueStore
from fedimpute.store.connection import connect, transaction
from fedimpute.store.inputs import InputStore
from fedimpute.store.jobs import JobStore
from fedimpute.store.migrations import apply_migrations, load_migrations
from fedimpute.store.notifications import NotificationStore
from fedimpute.store.progress import ProgressStore
from fedimpute.store.terms import TermsStore
from fedimpute.store.tracking import TrackingStore

__all__ = ["Store", "apply_migrations", "connect", "load_migrations", "transaction"]


class Store(CatalogueStore, JobStore, TrackingStore, TermsStore, InputStore, NotificationStore, ProgressStore):
    """The whole store: catalogue, panels, health, jobs, events, messages, results, monitor state and
    the users' acceptance of the services' terms."""
