"""Provenance: how each job's results were made, as an RO-Crate (``fedimpute provenance JOB_ID``).

>>> from fedimpute.provenance.export import write_provenance
>>> document, path = write_provenance(store, credentials, "fi-...")     # doctest: +SKIP

Modules: :mod:`~fedimpute.provenance.facts` (input facts, taken when a job is recorded),
:mod:`~fedimpute.provenance.tools` (tool versions from the run or the service's words),
:mod:`~fedimpute.provenance.collect` (everything stored about a job), :mod:`~fedimpute.provenance.crate`
(the RO-Crate, Process Run Crate profile) and :mod:`~fedimpute.provenance.export` (folder, zip or
document; secrets masked).  This package's own import is light on purpose: the job life cycle
imports :mod:`~fedimpute.provenance.facts` on every submission, and only writing a crate needs
``rocrate``.
"""

from __future__ import annotations

__all__: list[str] = []
