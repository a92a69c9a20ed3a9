"""The phases of an imputationserver2 job, applied one transition at a time.

Why transitions instead of a thread: the scheduler in state.py calls
run_phase() lazily (on each request, once the phase's time is up) or on
demand via CloudgeneSim.advance(), which keeps tests deterministic. Each
phase closes the current step with its final messages and opens the next one
with a type-3 (RUNNING) message, in the order Input Validation, Quality
Control, Phasing and Imputation, Summary (section 9).  Imputation moves one
chunk per transition, its running message saying "Imputation (i/n)" as the
server's does, so a client can follow a job chunk by chunk.
"""

from __future__ import annotations

from .model import (
    CANCELED,
    ERROR,
    EXPORTING,
    FAILED,
    OK,
    RUNNING,
    RUNNING_MSG,
    SUCCESS,
    WARNING,
    Job,
    Step,
    message,
    ms,
)
from .qc import run_qc, statistics_message, summary_message
from .results import write_results
from .vcf import VcfError, check_build, scan_vcf, synthetic_vcf

PHASING = {"eagle": "Eagle v2.4", "beagle": "Beagle 5.4", "no_phasing": "No phasing"}


def start(sim, job: Job, at: float) -> None:
    """The engine picked the job from the queue: state 2 and the first step."""
    job.state, job.start_time = RUNNING, ms(at)
    _open_step(sim, job, "Input Validation", "Validating input files...", at)
    _schedule(sim, job, "validate", at)


def run_phase(sim, job: Job, at: float) -> None:
    phase, job.next_phase, job.due = job.next_phase, None, None
    PHASES[phase](sim, job, at)


def cancel(sim, job: Job, at: float) -> None:
    """Cancel a waiting or running job: state 6 plus a type-1 message in the last step."""
    if not job.steps:
        job.steps.append(Step(sim.new_serial(), "Summary"))
    step = job.steps[-1]
    step.messages = [m for m in step.messages if m["type"] != RUNNING_MSG]
    step.messages.append(message("Pipeline execution canceled.", ERROR, at))
    job.state, job.end_time, job.next_phase, job.due = CANCELED, ms(at), None, None


def _open_step(sim, job: Job, name: str, running_text: str, at: float) -> None:
    job.steps.append(Step(sim.new_serial(), name, [message(running_text, RUNNING_MSG, at)]))


def _schedule(sim, job: Job, phase: str, at: float) -> None:
    job.next_phase, job.due = phase, at + sim.step_seconds


def _fail(job: Job, messages: list[dict], at: float) -> None:
    job.steps[-1].messages = messages + [message("Pipeline execution failed.", ERROR, at)]
    job.state, job.end_time = FAILED, ms(at)


def _validate(sim, job: Job, at: float) -> None:
    try:
        text = _validation_summary(sim, job)
    except VcfError as exc:
        return _fail(job, [message(str(exc), ERROR, at)], at)
    job.steps[-1].messages = [message(text, OK, at)]
    _open_step(sim, job, "Quality Control", "Calculating QC Statistics...", at)
    _schedule(sim, job, "qc", at)


def _load_vcfs(sim, job: Job) -> list:
    build = job.params["build"]
    names = [f for f in job.inputs if f.name.endswith(".vcf.gz")]
    if not sim.keep_uploads:  # nothing was stored: pretend the upload was a chromosome 20 panel
        return [synthetic_vcf(names[0].name if names else "upload.vcf.gz", max(sim.min_samples, 1), build,
                              sim.synthetic_chunks)]
    if not names:
        raise VcfError("No vcf.gz input files detected.")
    vcfs = [scan_vcf(f.path, f.name) for f in names]
    first = len(vcfs[0].samples)
    for vcf in vcfs[1:]:
        if len(vcf.samples) != first:
            raise VcfError(
                "Please double check, if all uploaded VCF files include the same amount of samples "
                f"({first} vs {len(vcf.samples)})"
            )
    for vcf in vcfs:
        check_build(vcf, build)
    if first < sim.min_samples:
        raise VcfError(f"At least {sim.min_samples} samples must be uploaded.")
    if first > sim.max_samples:
        raise VcfError(
            f"The maximum number of samples is {sim.max_samples}. Please contact {sim.contact_name} "
            f'(<a href="mailto:{sim.contact_mail}">{sim.contact_mail}</a>) to discuss this large '
            "imputation."
        )
    return vcfs


def _check_options(job: Job, vcfs: list) -> None:
    params, panel = job.params, job.panel
    if params["build"] not in ("hg19", "hg38"):
        raise VcfError(f"Build '{params['build']}' is not supported. Please select 'hg19' or 'hg38'.")
    keys = [key for key, _label in panel["populations"]]
    if population(job).lower() not in {key.lower() for key in keys}:
        raise VcfError(
            f"Population '{population(job)}' is not supported by reference panel '{panel['id']}'.\n"
            "Available populations:\n" + "\n".join(f" - {key}" for key in keys)
        )
    if params["phasing"] not in PHASING:
        raise VcfError("For phasing, only options 'eagle', 'beagle' or 'no_phasing' are allowed.")
    if params["phasing"] == "no_phasing" and not all(v.phased for v in vcfs):
        raise VcfError("Your input data is unphased. Please select an algorithm for phasing.")


def population(job: Job) -> str:
    return job.params.get("population") or "off"


def r2_filter(job: Job) -> float:
    try:
        return float(job.params["r2Filter"])
    except ValueError:
        return 0.0


def _validation_summary(sim, job: Job) -> str:
    vcfs = _load_vcfs(sim, job)
    _check_options(job, vcfs)
    job.vcfs = vcfs
    p, panel = job.params, job.panel
    text = (
        f"{len(vcfs)} valid VCF file(s) found.\n\nSamples: {len(vcfs[0].samples)}\n"
        f"Chromosomes: {' '.join(v.chrom for v in vcfs)}\nSNPs: {sum(v.n_sites for v in vcfs)}\n"
        f"Chunks: {sum(len(v.chunk_snps) for v in vcfs)}\n"
        f"Datatype: {'phased' if all(v.phased for v in vcfs) else 'unphased'}\nBuild: {p['build']}\n"
        f"Reference Panel: {panel['id']} ({panel.get('build', 'hg19')})\nPopulation: {population(job)}\n"
        f"Phasing: {p['phasing']}\nMode: {p['mode']}"
    )
    return text + (f"\nRsq filter: {p['r2Filter']}" if r2_filter(job) else "")


def _quality_control(sim, job: Job, at: float) -> None:
    job.qc = qc = run_qc(job.vcfs)
    build, panel_build = job.params["build"], job.panel.get("build", "hg19")
    msgs = [message("Calculating QC Statistics", OK, at)]
    if build != panel_build:
        msgs += [
            message(f"Uploaded data is {build} and reference is {panel_build}.", WARNING, at),
            message("Lift Over", OK, at),
        ]
    if population(job).lower() == "off":
        msgs.append(message("Skip allele frequency check.", WARNING, at))
    msgs.append(message(statistics_message(qc), OK, at))
    text, fatal = summary_message(qc)
    msgs.append(message(text, ERROR if fatal else WARNING, at))
    if fatal:
        return _fail(job, msgs, at)
    job.steps[-1].messages = msgs
    if job.params["mode"] != "imputation":  # any other value runs QC only (main.nf)
        return _begin_export(sim, job, at)
    _open_step(sim, job, "Phasing and Imputation", _imputation_running(1, qc.remaining_chunks), at)
    _schedule(sim, job, "impute", at)


def _imputation_running(at_chunk: int, chunks: int) -> str:
    """The running message of the imputation step, as the server writes it: "Imputation (i/n)" while
    chunk i of n is imputed, over a progress bar of the chunks finished."""
    width = round(100 * (at_chunk - 1) / chunks)
    return (f'<b>Imputation ({at_chunk}/{chunks})</b><br><div class="progress">'
            f'<div class="bar" style="width: {width}%"></div></div>')


def _impute(sim, job: Job, at: float) -> None:
    """One chunk per transition: the running message moves to the next chunk (rewritten in place, as the
    server updates it) until the last chunk is done and the step closes."""
    chunks, phasing = job.qc.remaining_chunks, job.params["phasing"]
    job.chunks_imputed += 1
    if job.chunks_imputed < chunks:
        job.steps[-1].messages = [message(_imputation_running(job.chunks_imputed + 1, chunks), RUNNING_MSG, at)]
        return _schedule(sim, job, "impute", at)
    msgs = (
        []
        if phasing == "no_phasing"
        else [message(f"<b>Phasing</b><br>{PHASING[phasing]}: {chunks} chunk(s) phased.", OK, at)]
    )
    job.steps[-1].messages = msgs + [
        message(f"<b>Imputation</b><br>Minimac4: {chunks} chunk(s) imputed.", OK, at)
    ]
    _begin_export(sim, job, at)


def _begin_export(sim, job: Job, at: float) -> None:
    job.state = EXPORTING
    _open_step(sim, job, "Summary", "Exporting data...", at)
    _schedule(sim, job, "export", at)


def _export(sim, job: Job, at: float) -> None:
    outdir = job.workspace / "output"
    outdir.mkdir(parents=True, exist_ok=True)
    imputation = job.params["mode"] == "imputation"
    names = write_results(
        outdir,
        job.id,
        job.vcfs,
        job.qc,
        password=job.password,
        imputation=imputation,
        aes=job.params["aesEncryption"] == "true",
        meta=job.params["meta"] == "true",
        md5=sim.md5_sidecars,
        r2_filter=r2_filter(job),
    )
    job.files = [sim.register_download(job, name, outdir / name) for name in names]
    text = "Data have been exported successfully."
    mail = sim.users[job.username].mail
    if imputation and job.password_generated:
        text += f" We encrypted the results with the following password: <b>{job.password}</b>"
    elif imputation and mail:
        text += f" We have sent a notification email to <b>{mail}</b>"
    job.steps[-1].messages = [message(text, OK, at)]
    job.state, job.end_time = SUCCESS, ms(at)
    sim.count_success(job)


PHASES = {"validate": _validate, "qc": _quality_control, "impute": _impute, "export": _export}
