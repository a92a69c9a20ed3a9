"""The progress rules on reports as each protocol writes them: counts where the service gives them,
unknown where it does not."""

from __future__ import annotations

from fedimpute.jobs.progress import Progress, _carry, progress_of, progress_text
from fedimpute.models import JobStatus, MessageLevel
from fedimpute.services.base import RemoteJob, RemoteMessage, RemoteStep
from fedimpute.services.cloudgene import read_job
from fedimpute.services.wes_parse import parse_run

RUN, INFO = MessageLevel.RUNNING, MessageLevel.INFO


def _remote(*steps: tuple[str, list[tuple[MessageLevel, str]]], status=JobStatus.RUNNING) -> RemoteJob:
    return RemoteJob(remote_id="r", status=status, remote_state="2", steps=[
        RemoteStep(name=name, messages=[RemoteMessage(level=lv, text=t) for lv, t in msgs]) for name, msgs in steps])


def test_cloudgene__the_reference_example_counts_its_listed_steps_and_chunk():
    """The reference's running MIS2 job lists all four steps (Summary still empty) and "Imputation (1/4)"."""
    data = {"id": "job-1", "state": 2, "positionInQueue": 0, "steps": [
        {"id": 101, "name": "Input Validation", "logMessages": [{"type": 0, "message": "1 valid VCF file(s) found."}]},
        {"id": 102, "name": "Quality Control", "logMessages": [{"type": 2, "message": "Excluded sites in total: 11"}]},
        {"id": 103, "name": "Phasing and Imputation", "logMessages": [
            {"type": 3, "message": '<b>Imputation (1/4)</b><br><div class="progress">...</div>'}]},
        {"id": 104, "name": "Summary", "empty": True, "logMessages": []}]}
    progress = progress_of(read_job("https://x", data))
    assert progress == Progress("running", "Phasing and Imputation", 2, 0, 4, "chunks", 0.5)


def test_cloudgene__unknown_pipeline_has_no_fraction():
    """Steps that are not imputationserver2's and no steps still to come listed: no total, no fraction."""
    progress = progress_of(_remote(("Align", [(INFO, "ok")]), ("Call", [(RUN, "calling (3/10)")])))
    assert (progress.step, progress.done, progress.total, progress.unit) == ("Call", 2, 10, "chunks")
    assert progress.fraction is None


def test_queued_and_pending__say_so_with_the_queue_position():
    queued = progress_of(RemoteJob(remote_id="r", status=JobStatus.QUEUED, remote_state="1", queue_position=3))
    assert (queued.step, queued.queue_position, queued.fraction) == ("queued", 3, 0.0)
    assert progress_text(queued.fields()) == "queued, 3 ahead in the queue (0%)"


def test_wes__finished_tasks_counted_total_unknown():
    body = {"run_id": "r1", "state": "RUNNING", "run_log": {}, "task_logs": [
        {"name": "align", "exit_code": 0, "end_time": "2026-01-01T00:00:00Z"},
        {"name": "impute_1", "exit_code": 0}, {"name": "impute_2"}]}
    progress = progress_of(parse_run(body), kind="wes")
    assert (progress.step, progress.done, progress.total, progress.unit, progress.fraction) == \
        ("impute_2", 2, None, "tasks", None)


def test_wes__no_tasks_and_no_log_stays_unknown():
    progress = progress_of(parse_run({"run_id": "r1", "state": "RUNNING", "run_log": {}}), kind="wes")
    assert progress == Progress("running", "running")


def test_local_engine__finished_chunks_from_cwltool_lines_total_unknown():
    """cwltool's log (colours included) names the step under way and each finished chunk job."""
    log = "\n".join(["\x1b[1;30mINFO\x1b[0m [step prepare] start", "INFO [job prepare] completed success",
                     "INFO [step chunk] start", "INFO [job chunk] completed success", "INFO [step chunk] start",
                     "INFO [job chunk_2] completed success", "INFO [step chunk] start"])
    remote = _remote(("Workflow run", [(INFO, line) for line in log.splitlines()]))
    progress = progress_of(remote, kind="local")
    assert (progress.step, progress.done, progress.total, progress.unit, progress.fraction) == \
        ("Phasing and Imputation", 2, None, "chunks", None)


def test_carry__a_report_without_steps_keeps_the_step_it_was_at():
    before = Progress("running", "Quality Control", 1, 1, 4, "steps", 0.25).fields()
    assert _carry(before, progress_of(_remote())) == Progress("running", "Quality Control", 1, 1, 4, "steps", 0.25)
    done = _carry(before, progress_of(_remote(status=JobStatus.COMPLETED)))
    assert (done.step, done.done, done.total, done.fraction) == ("completed", 4, 4, 1.0)


def test_progress_text__what_the_board_and_cli_print():
    assert progress_text(None) == ""
    assert progress_text({"step": "impute_2", "done": 2, "total": None, "unit": "tasks", "fraction": None}) == \
        "impute_2: 2 tasks done"
    assert progress_text({"step": "completed", "done": 4, "total": 4, "unit": "steps", "fraction": 1.0}) == \
        "completed (100%)"


def test_local_engine__with_every_chromosomes_plan_the_fraction_follows_the_chunks():
    """Once each input file's chromosome has its plan line, finished chunks over planned ones."""
    plan = ["fedimpute: chr20: 4 chunks to impute", "INFO [step chunk] start"]
    fractions = []
    for finished in range(1, 5):
        names = ["chunk" if i == 1 else f"chunk_{i}" for i in range(1, finished + 1)]
        lines = plan + [f"INFO [job {name}] completed success" for name in names]
        remote = _remote(("Workflow run", [(INFO, line) for line in lines]))
        fractions.append(progress_of(remote, kind="local", files=1).fraction)
    assert fractions == [0.25, 0.5, 0.75, 1.0]
    one_of_two = _remote(("Workflow run", [(INFO, line) for line in plan]))
    assert progress_of(one_of_two, kind="local", files=2).total is None  # chromosome 2 not planned yet


def test_local_engine__chunks_in_any_order_counted_once_and_never_falling():
    """cwltool --parallel ends chunk jobs in any order; the log tail may lose the early ones."""
    lines = ["INFO [step chunk] start", "INFO [job chunk_3] completed success", "INFO [job chunk] completed success"]
    now = progress_of(_remote(("Workflow run", [(INFO, line) for line in lines])), kind="local")
    assert now.done == 2  # two seen, not "3" from the highest name
    before = Progress("running", "Phasing and Imputation", None, 5, None, "chunks", None).fields()
    assert _carry(before, now).done == 5
