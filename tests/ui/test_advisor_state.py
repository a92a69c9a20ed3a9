"""The Advisor view's state without a browser: candidates, the ranking, and "use this panel" filling the
Submit form, which shares the cohort's files."""

from __future__ import annotations

import asyncio

import pytest

from tests.advise.conftest import lab, two_pops  # noqa: F401 (fixtures)
from tests.waiting import await_for


@pytest.fixture
def advisor(home, lab):  # noqa: F811
    from fedimpute.ui.state import HubState, SubmissionState
    from fedimpute.ui.state.advisor import AdvisorState

    state = HubState.from_home(home, user="tester")
    return AdvisorState(hub_state=state, submission=SubmissionState(hub_state=state))


async def test_advisor__ranks_and_prefills_the_submit_form(advisor, two_pops):  # noqa: F811
    from fedimpute.ui.components.advisor_view import AdvisorView
    from tests.ui.test_components import render

    await advisor.load_candidates()
    assert advisor.candidates == ["lab/pop-a", "lab/pop-b"] and advisor.blockers == ["add the cohort's files"]
    advisor.submission.add_uploads({"cohort.vcf.gz": (two_pops / "array.vcf.gz").read_bytes()})
    advice = await advisor.run()
    assert advice is not None and advisor.ranking["panel"].tolist() == ["pop-a", "pop-b"]
    assert advisor.choice == "lab/pop-a" and "--service lab --panel pop-a --build hg38" in advisor.command
    assert "overlap" in advisor.ranking.columns and "typed SNPs are in the panel" in advisor.ranking["reasons"][0]
    view = AdvisorView(advisor=advisor)
    view._show_advice(None)
    render(view)
    advisor.choice = "lab/pop-b"
    assert await advisor.use_choice() and advisor.used == 1
    sub = advisor.submission
    assert (sub.services, sub.panel, sub.build) == (["lab"], "pop-b", "hg38")
    assert [f.name for f in sub.files] == ["cohort.vcf.gz"]
    # the form's pre-flight check was started for lab
    await await_for(lambda: sub.reports and not sub.checking, what="the Submit form's pre-flight check")
    assert list(sub.reports) == ["lab"] and sub.reports["lab"].ok


async def test_advisor__says_what_is_missing(home):
    from fedimpute.ui.state import HubState, SubmissionState
    from fedimpute.ui.state.advisor import AdvisorState

    state = HubState.from_home(home, user="tester")
    advisor = AdvisorState(hub_state=state, submission=SubmissionState(hub_state=state))
    await advisor.load_candidates()
    assert advisor.candidates == [] and "panels add-sites" in advisor.message
    assert await advisor.run() is None and advisor.message.startswith("cannot advise yet: add the cohort's files")
    assert not await advisor.use_choice() and advisor.message == "run the advisor and choose a panel first"
