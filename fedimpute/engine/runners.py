"""The local engine's runners as ``run.sh`` function bodies, and the summary of a failed Toil run.

:func:`fedimpute.engine.sapporo.write_run_sh` replaces sapporo's Docker launchers with these
bodies, so sapporo's own state handling, signals and cancel stay in charge:

* ``cwltool``: one ``cwltool`` process per run, on this machine.
* ``toil``: ``toil-cwl-runner`` from Toil's own venv (:mod:`fedimpute.engine.toilenv`) on a batch
  system (``single_machine``, ``slurm``, ...).  Each run gets its own job store and work folder
  (under ``toil_work_dir/<run id>`` or the run's ``toil/``) and its Toil logs in the run's
  ``toil-logs/``; all are removed after a success and kept after a failure, whose ``stderr.log``
  (what fedimpute shows as the job's error) then ends with a line naming the failed step, its
  own last words and its log.  Cancel stops the leader with SIGTERM (Toil then kills its workers
  and its Slurm jobs, which takes it a few seconds, so the grace is at least
  :data:`TOIL_CANCEL_GRACE`), then ends any worker or Slurm job of the run that is left:
  workers found as the leader's children, Slurm jobs by the run's ``--comment``.

This file is also run as a script by ``run.sh`` with the WES venv's interpreter (``python -I``,
standard library only, never fedimpute itself)::

    python -I runners.py toil-failure STDERR_LOG TOIL_LOGS_DIR EXIT_CODE
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

__all__ = ["CWLTOOL_BODY", "TOIL_CANCEL_GRACE", "toil_body", "toil_cancel_body", "toil_failure_line"]

#: Seconds a canceled Toil leader gets to stop its workers and Slurm jobs before SIGKILL.
TOIL_CANCEL_GRACE = 30

CWLTOOL_BODY = """    cd "${exe_dir}"
    # --parallel: the chunks of a chromosome run side by side, as many as their resource requests allow
    local -a cmd_arr=(cwltool --parallel --outdir "${outputs_dir}" --tmpdir-prefix "${tmp_dir}/"
                      --tmp-outdir-prefix "${tmp_dir}/")
    _append_engine_params cmd_arr
    cmd_arr+=("${wf_url}" "${wf_params}")
    _write_and_run cmd_arr"""

# Sizes for steps without a CWL ResourceRequirement: one core, and room for beagle's default 2 GB heap.
_TOIL_DEFAULTS = ("--defaultMemory", "2Gi", "--defaultCores", "1", "--defaultDisk", "2Gi")

# Shared by the run body and cancel: where this run's Toil folders are and how its Slurm jobs are tagged.
_TOIL_PATHS = """    local run_id; run_id="$(basename "${run_dir}")"
    local toil_dir=%(base)s
    local toil_logs="${run_dir}/toil-logs"
    local slurm_comment="fedimpute-run-${run_id}\""""


def toil_body(*, venv: Path, batch_system: str, max_cores: int | None, work_dir: Path | None,
              python: Path) -> str:
    """``run_toil``: the leader in the foreground of run_wf (so sapporo's signals reach it); on failure
    the summary line is appended to ``stderr.log`` before sapporo records EXECUTOR_ERROR."""
    args = ["--batchSystem", batch_system, *_TOIL_DEFAULTS, "--disableCaching", "--no-cwl-default-ram",
            "--retryCount", "0"] + (["--maxCores", str(max_cores)] if max_cores else [])
    fixed = " ".join(shlex.quote(a) for a in args)
    return "\n".join([
        _toil_paths(work_dir),
        '    cd "${exe_dir}"',
        '    rm -rf "${toil_dir}/jobstore" && mkdir -p "${toil_dir}/work" "${toil_logs}"',
        # Slurm starts workers as `_toil_worker`: it must be on the PATH the jobs inherit.
        f'    export PATH={shlex.quote(str(venv / "bin"))}:"${{PATH}}"',
        '    export TOIL_SLURM_ARGS="${TOIL_SLURM_ARGS:+${TOIL_SLURM_ARGS} }--comment=${slurm_comment}"',
        f'    local -a cmd_arr=(toil-cwl-runner {fixed} --jobStore "${{toil_dir}}/jobstore"',
        '        --workDir "${toil_dir}/work" --outdir "${outputs_dir}" --logFile "${toil_logs}/toil.log"',
        '        --writeLogs "${toil_logs}")',
        "    _append_engine_params cmd_arr",
        '    cmd_arr+=("${wf_url}" "${wf_params}")',
        '    rm -f "${engine_cid}"',
        """    printf '%s ' "${cmd_arr[@]}" >"${cmd}"; echo "" >>"${cmd}\"""",
        "    local code=0",
        '    "${cmd_arr[@]}" 1>"${stdout}" 2>"${stderr}" || code=$?',
        "    if ((code != 0)); then",
        f'        {shlex.quote(str(python))} -I {shlex.quote(__file__)} toil-failure "${{stderr}}" "${{toil_logs}}" '
        '"${code}" >>"${stderr}" 2>&1 || true',
        '        executor_error "${code}"',
        "    fi",
        '    rm -rf "${toil_dir}" "${toil_logs}"',
    ])


def toil_cancel_body(work_dir: Path | None) -> str:
    """``cancel`` for Toil: SIGTERM the leader's group and give it time to stop its own workers and
    Slurm jobs; then kill the worker sessions it left (single_machine starts each in its own session,
    out of reach of the group signal) and scancel Slurm jobs still carrying this run's comment."""
    return "\n".join([
        _toil_paths(work_dir),
        "    local -a workers=()",
        '    if [[ -n "${bg_pid:-}" ]] && command -v pgrep >/dev/null; then',
        "        local leader",
        '        for leader in $(pgrep -P "${bg_pid}" || true); do',
        '            workers+=($(pgrep -P "${leader}" || true))',
        "        done",
        "    fi",
        f"    local cancel_grace_seconds=$((cancel_grace_seconds > {TOIL_CANCEL_GRACE} ? cancel_grace_seconds : "
        f"{TOIL_CANCEL_GRACE}))",
        "    stop_run_wf",
        "    local w",
        '    for w in "${workers[@]+"${workers[@]}"}"; do',
        # Only while it still is this run's worker (its command line names the run's job store).
        '        if tr "\\0" " " 2>/dev/null <"/proc/${w}/cmdline" | grep -qF "file:${toil_dir}/jobstore"; then',
        '            kill -KILL -- "-${w}" 2>/dev/null || true',
        "        fi",
        "    done",
        "    if command -v squeue >/dev/null; then",
        "        local -a jobs",
        "        jobs=($(squeue -h -o '%i %k' 2>/dev/null \\",
        """            | awk -v c="${slurm_comment}" '$2 == c {print $1}' || true))""",
        '        if ((${#jobs[@]})); then scancel "${jobs[@]}" 2>/dev/null || true; fi',
        "    fi",
    ])


def _toil_paths(work_dir: Path | None) -> str:
    base = f'{shlex.quote(str(work_dir))}/"${{run_id}}"' if work_dir else '"${run_dir}/toil"'
    return _TOIL_PATHS % {"base": base}


# -- the failure summary (standard library only: run by the WES venv's python) ------------------------

_FAILED_JOB = re.compile(r"Job '(\w+)' (\S+) kind-\S+ v\d+ is completely failed")


def _log_name(job_name: str) -> str:
    """Toil's file name for a job's log (``StatsAndLogging.writeLogFiles``)."""
    name = job_name.replace("-", "--").replace("/", "-").replace(" ", "_")
    return name.replace("'", "").replace('"', "")


def _last_words(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace")[-4000:].splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def toil_failure_line(stderr_text: str, logs_dir: Path, code: str) -> str:
    """One line naming the failed step, its last words and its log, from the leader's output and the
    logs Toil wrote with ``--writeLogs``; the leader's log when no step failed (e.g. bad inputs)."""
    failed = _FAILED_JOB.findall(stderr_text)
    steps = [f for f in failed if f[0] == "CWLJob"] or failed
    if not steps:
        return f"fedimpute: Toil stopped (exit {code}) before any step failed; see {logs_dir / 'toil.log'}"
    kind, unit = steps[0]
    logs = sorted(logs_dir.glob(f"failed_{_log_name(f'{kind} {unit}')}_*.log")) or sorted(
        logs_dir.glob("failed_*.log"), key=lambda p: p.stat().st_mtime)
    log = logs[-1] if logs else logs_dir / "toil.log"
    tool_err = sorted(logs_dir.glob(f"{_log_name(unit)}.stderr_*.log"))  # the step's own stderr
    reason = _last_words(tool_err[-1]) if tool_err else ""
    return f"fedimpute: step {unit} failed" + (f": {reason}" if reason else "") + f" (log: {log})"


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "toil-failure":
        sys.exit("usage: python -I runners.py toil-failure STDERR_LOG TOIL_LOGS_DIR EXIT_CODE")
    print(toil_failure_line(Path(sys.argv[2]).read_text(errors="replace"), Path(sys.argv[3]), sys.argv[4]))
