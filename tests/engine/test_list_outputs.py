"""The engine's output listing writes the same outputs.json as sapporo's own (slower) CLI."""

from __future__ import annotations

import json
import shutil
import subprocess

from fedimpute.engine.list_outputs import write_outputs_json
from fedimpute.engine.sapporo import write_run_sh
from fedimpute.engine.wesenv import ensure_wes_venv


def _run_dir(root):
    run = root / "ab" / "abcd-1234"
    out = run / "outputs"
    (out / "statistics").mkdir(parents=True)
    (run / "runtime_info.json").write_text(json.dumps({"run_id": "abcd-1234",
                                                       "base_url": "http://127.0.0.1:1234/ga4gh/wes/v1"}))
    for name in ("chr20.dose.vcf.gz", "qc report+1.txt", "statistics/snps-excluded.txt", "ümlaut #1.txt"):
        (out / name).write_text(name)
    (run / "exe").mkdir()
    (run / "exe" / "inside.txt").write_text("inside the run")
    (out / "link-inside.txt").symlink_to(run / "exe" / "inside.txt")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not an output")
    (out / "link-outside.txt").symlink_to(outside / "secret.txt")
    (out / "dir-outside").symlink_to(outside)
    return run


def test_list_outputs__same_document_as_sapporo_cli(tmp_path):
    run = _run_dir(tmp_path)
    venv = ensure_wes_venv()
    subprocess.run([str(venv / "bin" / "sapporo-cli"), "dump-outputs", str(run)], check=True, capture_output=True)
    theirs = json.loads((run / "outputs.json").read_text())
    (run / "outputs.json").unlink()
    write_outputs_json(run)
    ours = json.loads((run / "outputs.json").read_text())
    assert ours == theirs
    names = [o["file_name"] for o in ours]
    assert "link-inside.txt" in names and not any("outside" in n for n in names)
    assert not (run / "outputs.json.tmp").exists()


def test_run_sh__lists_outputs_with_the_standalone_script(tmp_path):
    """The derived run.sh calls list_outputs.py with the WES venv's isolated interpreter, not sapporo-cli."""
    venv = ensure_wes_venv()
    text = write_run_sh(venv, tmp_path / "run.sh").read_text()
    body = text[text.index("function generate_outputs_list() {"):].split("\n}\n", 1)[0]
    assert "list_outputs.py" in body and "-I" in body and "sapporo-cli" not in body
    run = _run_dir(tmp_path / "x")
    lister = body.split('"')[3]
    subprocess.run([str(venv / "bin" / "python"), "-I", lister, str(run)], check=True)
    assert len(json.loads((run / "outputs.json").read_text())) == 5
    shutil.rmtree(run)
