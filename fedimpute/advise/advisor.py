"""``advise``: which service and reference panel suit a cohort, before any imputation is run.

    >>> from fedimpute.advise import advise
    >>> advice = advise(["chr20.vcf.gz"], population="eur")        # doctest: +SKIP
    >>> advice.ranking[0].service, advice.ranking[0].panel_id      # doctest: +SKIP
    >>> advice.submit_command()                                    # doctest: +SKIP

The cohort is read once (:mod:`.cohort`); every candidate whose sites are known here
(:mod:`.registry`) is compared with it (:mod:`.compare`); with ``remote`` each Cloudgene
(service, panel) pair also gets a QC-only job (:mod:`.remote`); :mod:`.ranking` orders them.

Candidates: the services named (default: every enabled one) and, of their panels, those named
(default: all).  Panels come from the store's cache (no network), the local engine's registry,
and the registrations of ``panels add-sites``; with ``remote``, Cloudgene services with no cached
panels are asked for theirs.  Without names, a panel is a candidate only when there is evidence to
judge it by (local sites, or ``remote`` on a Cloudgene service): a named panel is always listed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from fedimpute.advise.cohort import CohortSites, scan_cohort
from fedimpute.advise.compare import compare
from fedimpute.advise.ranking import Advice, Recommendation
from fedimpute.advise.registry import Candidate, has_sites, registered_sites, service_panels, sites_table
from fedimpute.advise.remote import run_remote
from fedimpute.exceptions import FedImputeError, UsageError
from fedimpute.hub import Hub
from fedimpute.models import ReferencePanel, ServiceConfig
from fedimpute.owners import default_owner
from fedimpute.store import Store

__all__ = ["REMOTE_TIMEOUT", "advise", "advise_async", "find_candidates"]

REMOTE_TIMEOUT = 3600.0
Progress = Callable[[str], None]


def advise(files: Sequence[str | os.PathLike[str]], *, services: Sequence[str] = (), panels: Sequence[str] = (),
           build: str = "auto", population: str | None = None, remote: bool = False, hub: Hub | None = None,
           owner: str | None = None, timeout: float = REMOTE_TIMEOUT, progress: Progress | None = None) -> Advice:
    """:func:`advise_async` for callers without an event loop (the CLI, scripts)."""
    return asyncio.run(advise_async(files, services=services, panels=panels, build=build, population=population,
                                    remote=remote, hub=hub, owner=owner, timeout=timeout, progress=progress))


async def advise_async(files: Sequence[str | os.PathLike[str]], *, services: Sequence[str] = (),
                       panels: Sequence[str] = (), build: str = "auto", population: str | None = None,
                       remote: bool = False, hub: Hub | None = None, owner: str | None = None,
                       timeout: float = REMOTE_TIMEOUT, progress: Progress | None = None,
                       pairs: Sequence[tuple[str, str]] = ()) -> Advice:
    """Rank the candidate (service, panel) pairs for the cohort in ``files`` (see the module docstring);
    ``pairs`` names the candidates exactly (the dashboard's choice) instead of ``services`` x ``panels``."""
    if build not in ("auto", "hg19", "hg38"):
        raise UsageError(f"--build must be hg19, hg38 or auto, got {build!r}")
    paths = [Path(f) for f in files]
    if not paths:
        raise UsageError("no files to advise on: give the cohort's VCF files")
    hub = hub or Hub()
    say = progress or (lambda _text: None)
    if remote:
        await _discover(hub, services or sorted({s for s, _ in pairs}), say)
    candidates = find_candidates(hub.store, services, panels, remote=remote, pairs=pairs)
    if not candidates:
        raise UsageError("no candidate panel to judge: register a panel's sites with `fedimpute panels add-sites "
                         "SERVICE PANEL_ID FILE`, add panels to the local engine (`fedimpute engine add-panel`), or "
                         "name Cloudgene services with --service and ask them with --remote")
    say(f"reading {len(paths)} file(s) once ...")
    cohort = await asyncio.to_thread(scan_cohort, paths, build=build)
    cohort_build = build if build != "auto" else cohort.build
    rows = [Recommendation(c) for c in candidates]
    await asyncio.to_thread(_local_evidence, hub.store, rows, cohort, cohort_build, population, say)
    if remote:
        cloudgene = [r.candidate.key for r in rows if r.candidate.protocol == "cloudgene"]
        found = await run_remote(hub, paths, cloudgene, owner=owner or default_owner(), population=population,
                                 build=cohort_build, timeout=timeout, progress=say)
        for row in rows:
            row.remote = found.get(row.candidate.key, row.remote)
    for row in rows:
        row.judge()
    rows.sort(key=Recommendation.sort_key)
    failures = [f"{Path(f.path).name}: {c.id}: {c.message}" for f in cohort.files for c in f.checks
                if c.status.value == "fail"]
    return Advice(files=paths, build=cohort_build, population=population, samples=cohort.samples, typed=cohort.typed,
                  preflight=failures, ranking=rows)


async def _discover(hub: Hub, services: Sequence[str], say: Progress) -> None:
    """Cloudgene services without cached panels are asked for theirs (a failure is only reported)."""
    for config in _services(hub.store, services):
        if config.protocol == "cloudgene" and not hub.store.list_panels(config.name):
            try:
                await hub.panels(config.name)
            except FedImputeError as exc:
                say(f"{config.name}: could not list its panels ({str(exc).splitlines()[0]})")


def _services(store: Store, names: Sequence[str]) -> list[ServiceConfig]:
    if names:
        return [store.get_service(n) for n in dict.fromkeys(names)]  # an unknown name exits 3
    return [s for s in store.list_services() if s.enabled]


def find_candidates(store: Store, services: Sequence[str] = (), panels: Sequence[str] = (), *,
                    remote: bool = False, pairs: Sequence[tuple[str, str]] = ()) -> list[Candidate]:
    """The (service, panel) pairs to judge (see the module docstring), or exactly ``pairs``; no network."""
    if pairs:
        chosen = set(pairs)
        found = find_candidates(store, sorted({s for s, _ in chosen}), sorted({p for _, p in chosen}), remote=remote)
        return [c for c in found if c.key in chosen]
    registered = {(t.manifest["service"], t.manifest["panel_id"]) for t in registered_sites(store.home)}
    wanted = set(panels)
    out: list[Candidate] = []
    for config in _services(store, services):
        known: dict[str, ReferencePanel | None] = {p.panel_id: p for p in service_panels(config, store.home)}
        known |= {p.panel_id: p for p in store.list_panels(config.name)}
        for service, panel_id in registered:
            if service == config.name:
                known.setdefault(panel_id, None)
        for panel_id in sorted(known):
            if wanted and panel_id not in wanted:
                continue
            candidate = Candidate(config.name, panel_id, config.protocol, known[panel_id])
            judged = (config.name, panel_id) in registered or (remote and config.protocol == "cloudgene")
            if judged or wanted or services or has_sites(config, panel_id, store.home):
                out.append(candidate)
    return out


def _local_evidence(store: Store, rows: list[Recommendation], cohort: CohortSites, build: str | None,
                    population: str | None, say: Progress) -> None:
    """Compare the cohort with every candidate whose sites are known here (a worker thread)."""
    configs = {s.name: s for s in store.list_services()}
    for row in rows:
        c = row.candidate
        panel = c.panel
        if population and panel is not None and panel.populations and not any(
                p.id.lower() == population.lower() for p in panel.populations):
            offered = ", ".join(p.id for p in panel.populations)
            row.notes.append(f"population {population!r} is not offered by this panel (it offers {offered}); "
                             "the panel's overall frequencies are compared")
        if panel is not None and panel.build and build and panel.build != build:
            row.notes.append(f"the panel is {panel.build} and the cohort {build}: the server lifts the cohort over, "
                             "so positions cannot be compared here (use --remote for the server's own QC)")
            continue
        try:
            table = sites_table(configs[c.service], c.panel_id, store.home)
        except FedImputeError as exc:
            row.notes.append(f"the panel's sites file cannot be read: {str(exc).splitlines()[0]}")
            continue
        if table is None:
            continue
        if not cohort.typed:
            row.notes.append("the cohort has no SNP the server would compare with a panel (see `fedimpute check`)")
            continue
        say(f"comparing with {c.service}/{c.panel_id} ({table.manifest.get('sites', 0):,} sites) ...")
        row.local = compare(cohort, table, population=population, panel_samples=panel.samples if panel else None)
        if population and row.local.af_population is None:
            has = f"it has {', '.join(table.populations)}" if table.populations else "it has none by population"
            row.notes.append(f"the sites file has no frequencies of population {population!r} ({has}); the panel's "
                             "overall frequencies are compared")
