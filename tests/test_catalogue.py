"""The service catalogue: built-ins, user services, settings."""

from __future__ import annotations

import pytest

from fedimpute.catalogue import make_service
from fedimpute.exceptions import DuplicateServiceError, ServiceNotFoundError, UnknownSettingError, UsageError
from fedimpute.models import HealthRecord, HealthStatus, Population, Protocol, ReferencePanel


def test_builtin__three_cloudgene_services(store):
    services = {s.name: s for s in store.list_services()}
    assert set(services) == {"michigan", "topmed", "h3africa"}
    assert {s.protocol for s in services.values()} == {Protocol.CLOUDGENE}
    assert services["michigan"].url == "https://imputationserver.sph.umich.edu"
    assert services["topmed"].url == "https://imputation.biodatacatalyst.nhlbi.nih.gov"
    assert services["h3africa"].url == "https://impute.afrigen-d.org"
    assert all(s.app == "imputationserver2" and s.builtin for s in services.values())
    assert services["topmed"].max_samples == 25000


def test_add_remove__round_trip(store):
    svc = make_service("my-wes", "wes", "http://127.0.0.1:8080/ga4gh/wes/v1/",
                       settings=["workflow=impute", "engine=cwltool", "max_samples=500"], location="Lab")
    store.add_service(svc)
    got = store.get_service("my-wes")
    assert got.url == "http://127.0.0.1:8080/ga4gh/wes/v1"
    assert got.settings == {"workflow": "impute", "engine": "cwltool"}
    assert got.max_samples == 500 and got.app is None
    store.remove_service("my-wes")
    with pytest.raises(ServiceNotFoundError, match="services list"):
        store.get_service("my-wes")


def test_add__duplicate_refused_unless_replace(store):
    svc = make_service("michigan", "cloudgene", "https://example.org")
    with pytest.raises(DuplicateServiceError, match="--replace"):
        store.add_service(svc)
    store.add_service(svc, replace=True)
    assert store.get_service("michigan").url == "https://example.org"


def test_make_service__errors_name_the_fix():
    with pytest.raises(UnknownSettingError, match="known keys: namespace, engine_id"):
        make_service("d", "dnastack", "https://x", settings=["colour=blue"])
    with pytest.raises(UsageError, match="choose one of cloudgene, wes, dnastack, local"):
        make_service("d", "ftp", "https://x")
    with pytest.raises(UsageError, match="http:// or https://"):
        make_service("d", "wes", "ftp://x")
    with pytest.raises(UsageError, match="letters, digits"):
        make_service("bad name", "wes", "https://x")
    with pytest.raises(UsageError, match="KEY=VALUE"):
        make_service("d", "wes", "https://x", settings=["engine"])


def test_remove__builtin_stays_removed(home):
    from fedimpute.store import Store

    Store(home).remove_service("topmed")
    assert "topmed" not in {s.name for s in Store(home).list_services()}


def test_panels__cached_and_replaced(store):
    p = ReferencePanel(service="michigan", panel_id="hapmap-2", key="apps@hapmap-2@2.0.0", name="HapMap 2",
                       build="hg19", populations=[Population(id="eur", label="EUR")])
    store.replace_panels("michigan", [p])
    (got,) = store.list_panels("michigan")
    assert got.populations == [Population(id="eur", label="EUR")] and got.discovered_at is not None
    store.replace_panels("michigan", [])
    assert store.list_panels("michigan") == []


def test_health__latest_per_service(store):
    assert store.health_of("michigan").status is HealthStatus.UNKNOWN
    store.record_health(HealthRecord(service="michigan", status=HealthStatus.DOWN, detail="refused"))
    store.record_health(HealthRecord(service="michigan", status=HealthStatus.UP))
    assert store.health_of("michigan").status is HealthStatus.UP


def test_make_service__cloudgene_gets_cloudgene_limits():
    svc = make_service("mine", "cloudgene", "https://imputation.example.org")
    assert (svc.min_samples, svc.max_samples, svc.max_upload_mb, svc.builds) == (
        20, 50_000, 5000, ["hg19", "hg38"])
    assert svc.max_concurrent_jobs is None  # the server says "Only N jobs ..." itself


def test_make_service__set_overrides_a_default_and_0_switches_it_off():
    svc = make_service("mine", "cloudgene", "https://x.example", settings=["min_samples=5", "max_upload_mb=0",
                                                                          "builds=hg38"])
    assert (svc.min_samples, svc.max_samples, svc.max_upload_mb, svc.builds) == (5, 50_000, 0, ["hg38"])


def test_make_service__other_protocols_get_no_sample_limits():
    for protocol, url in (("wes", "http://127.0.0.1:8"), ("dnastack", "https://x"),
                          ("local", "http://127.0.0.1:9")):
        svc = make_service("s", protocol, url)
        assert (svc.min_samples, svc.max_samples, svc.max_upload_mb) == (None, None, None), protocol


def test_builtin__limits_are_the_operators_with_cloudgene_upload_default(store):
    limits = {s.name: (s.min_samples, s.max_samples, s.max_upload_mb, s.builds) for s in store.list_services()}
    assert limits == {"michigan": (5, 110_000, 5000, ["hg19", "hg38"]),
                      "topmed": (20, 25_000, 5000, ["hg19", "hg38"]),
                      "h3africa": (20, 110_000, 2048, ["hg19", "hg38"])}
    assert store.get_service("topmed").max_upload_mb == 5000


def test_read__an_entry_stored_without_limits_gets_the_defaults(store):
    """An entry written before the defaults existed (limits NULL in DuckDB) is read with them."""
    from fedimpute.models import ServiceConfig

    store.add_service(ServiceConfig(name="old", protocol=Protocol.CLOUDGENE, url="https://x.example",
                                    max_samples=30))
    with store.read() as con:
        assert con.execute("SELECT min_samples, max_upload_mb FROM services WHERE name = 'old'").fetchone() == (
            None, None)
    got = store.get_service("old")
    assert (got.min_samples, got.max_samples, got.max_upload_mb) == (20, 30, 5000)
