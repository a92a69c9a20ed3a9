"""The expected R² heuristic is the one calibrated on the simulations committed in tests/data/advise."""

from __future__ import annotations

import json

import pytest

from fedimpute.advise import expected
from fedimpute.advise.calibrate import fit
from tests.advise.conftest import DATA


def test_constants_are_the_calibrations_fit():
    document = json.loads((DATA / "calibration.json").read_text())
    refit = fit(document["rows"])
    assert refit == document["fit"]
    constants = (expected.CEILING, expected.POWER, expected.DIVERGENCE)
    assert (refit["ceiling"], refit["power"], refit["divergence"]) == constants
    well = fit(document["rows"], "achieved_well")
    assert well == document["fit_well"] and well["rank_agreement"] == 1.0 and well["rmse"] < 0.08
    constants = (expected.WELL_CEILING, expected.WELL_POWER, expected.WELL_DIVERGENCE)
    assert (well["ceiling"], well["power"], well["divergence"]) == constants
    assert refit["rank_agreement"] == 1.0 and refit["rmse"] < 0.06
    assert len(document["rows"]) == 72 and {r["panel"] for r in document["rows"]} == {"a", "b"}


@pytest.mark.parametrize("overlap, kept, fst, value", [
    (1.0, 1.0, 0.0, expected.CEILING),
    (1.0, 0.0, 0.0, 0.0),  # every chunk excluded: nothing imputed
    (0.5, 1.0, None, expected.CEILING * 0.5**expected.POWER),  # frequencies unknown: no divergence term
])
def test_expected_r2__edges(overlap, kept, fst, value):
    assert expected.expected_r2(overlap, kept, fst) == pytest.approx(value)
    assert expected.expected_r2(1.0, 1.0, 0.2) < expected.expected_r2(1.0, 1.0, 0.05)
