"""Which (service, panel) pairs the advisor judges, and where each one's sites come from (no network)."""

from __future__ import annotations

from fedimpute.advise import find_candidates, register_sites
from fedimpute.advise.registry import has_sites, sites_table
from fedimpute.catalogue import make_service
from fedimpute.models import Population, ReferencePanel


def _cached(store, service: str, *panel_ids: str) -> None:
    store.replace_panels(service, [ReferencePanel(service=service, panel_id=p, name=p, build="hg19",
                                                  populations=[Population(id="eur", label="EUR")])
                                   for p in panel_ids])


def test_only_panels_with_evidence_unless_named_or_remote(store, lab, two_pops):
    store.add_service(make_service("cg", "cloudgene", "https://cg.example.org"))
    _cached(store, "cg", "hapmap-2", "hrc")
    keys = [c.key for c in find_candidates(store)]
    assert keys == [("lab", "pop-a"), ("lab", "pop-b")]  # the WES panels file names their sites
    assert [c.key for c in find_candidates(store, remote=True)] == [("cg", "hapmap-2"), ("cg", "hrc"),
                                                                  ("lab", "pop-a"), ("lab", "pop-b")]
    assert [c.key for c in find_candidates(store, ["cg"])] == [("cg", "hapmap-2"), ("cg", "hrc")]  # named
    assert [c.key for c in find_candidates(store, panels=["hrc"])] == [("cg", "hrc")]
    assert [c.key for c in find_candidates(store, pairs=[("lab", "pop-b"), ("cg", "hrc")])] == [
        ("cg", "hrc"), ("lab", "pop-b")]
    register_sites(store.get_service("cg"), "hrc", two_pops / "panel-a.vcf.gz")
    found = {c.key: c for c in find_candidates(store)}
    assert ("cg", "hrc") in found and found[("cg", "hrc")].panel.build == "hg19"
    assert has_sites(store.get_service("cg"), "hrc") and not has_sites(store.get_service("cg"), "hapmap-2")


def test_engine_registry_sites_are_converted_once_and_again_when_changed(store, two_pops):
    from fedimpute.engine.panels import add_panel

    store.add_service(make_service("local", "local", "http://127.0.0.1:9"))
    add_panel(two_pops / "panel-a.vcf.gz", panel_id="pop-a", build="hg38", home=store.home)
    local = store.get_service("local")
    assert [c.key for c in find_candidates(store)] == [("local", "pop-a")]
    first = sites_table(local, "pop-a")
    assert first.manifest["source"].endswith("panels/pop-a/panel.sites.vcf.gz") and not first.manifest["registered"]
    assert sites_table(local, "pop-a").manifest["converted_at"] == first.manifest["converted_at"]  # cached
    add_panel(two_pops / "panel-b.vcf.gz", panel_id="pop-a", build="hg38", home=store.home, replace=True)
    again = sites_table(local, "pop-a")
    assert again.manifest["converted_at"] != first.manifest["converted_at"]
    assert again.manifest["sites"] != first.manifest["sites"]  # now panel B's sites
