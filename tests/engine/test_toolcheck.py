"""The engine's tool check: the real installed tools pass; impostors and other versions fail clearly.

The bad inputs are small executables on a temporary PATH that print what a wrong program would:
bioconda's unrelated `eagle` web tool, a minimac4 or beagle of another release, a tool that hangs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from fedimpute.engine.toolcheck import ALLOW_UNTESTED_ENV, SPECS, ToolCheckError, check_tools, inspect_tools

WEB_EAGLE = """\
usage: eagle [-h] [--version] [--host HOST] [--port PORT] [--config CONFIG]
Eagle 0.9.0: a webtool for genome variants and snp analysis
"""


def fake_tool(folder: Path, name: str, script: str) -> Path:
    """An executable shell script called ``name`` in ``folder``: the bad input under test."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def printing(text: str) -> str:
    return f"cat <<'EOF'\n{text}EOF\n"


def test_check_tools__installed_tools_pass():
    versions = check_tools()
    assert set(versions) == set(SPECS) == {"eagle", "beagle", "minimac4", "bcftools", "tabix", "bgzip"}
    assert versions["eagle"].startswith("2.4")
    assert versions["minimac4"].startswith("4.1.")
    assert versions["beagle"].startswith("5.4 (")
    assert versions["bcftools"].startswith("1.")
    assert all(r.problem is None and Path(r.path).is_file() for r in inspect_tools())


def test_check_tools__web_tool_named_eagle_is_refused(tmp_path):
    fake_tool(tmp_path, "eagle", printing(WEB_EAGLE))
    with pytest.raises(ToolCheckError) as caught:
        check_tools(["eagle"], path=str(tmp_path))
    message = str(caught.value)
    assert f"{tmp_path / 'eagle'} is a different program" in message
    assert "Eagle 0.9.0: a webtool" in message or "usage: eagle" in message  # what was found
    assert "expected Eagle v2.4.x" in message
    assert "apt-get install bio-eagle" in message and "eagle2=2.4" in message  # how to fix
    assert "conda remove eagle" in message  # the name clash, spelled out
    assert ALLOW_UNTESTED_ENV not in message  # a wrong program is never allowed


def test_check_tools__eagle_like_banner_without_its_author_is_refused(tmp_path, monkeypatch):
    fake_tool(tmp_path, "eagle", printing("Eagle v0.9.0\n"))
    monkeypatch.setenv(ALLOW_UNTESTED_ENV, "1")  # does not let another program through
    (report,) = inspect_tools(["eagle"], path=str(tmp_path))
    assert report.other_program and report.version is None
    with pytest.raises(ToolCheckError, match="different program"):
        check_tools(["eagle"], path=str(tmp_path))


def test_check_tools__debian_name_bio_eagle_is_preferred(tmp_path):
    """The workflow runs `bio-eagle` when both exist, so that is the one checked."""
    real = shutil.which("bio-eagle") or shutil.which("eagle")
    fake_tool(tmp_path, "bio-eagle", f'exec "{real}" "$@"\n')
    fake_tool(tmp_path, "eagle", printing(WEB_EAGLE))
    (report,) = inspect_tools(["eagle"], path=str(tmp_path))
    assert (report.path, report.problem) == (str(tmp_path / "bio-eagle"), None)
    assert report.version.startswith("2.4")


def test_check_tools__untested_minimac4_version(tmp_path, monkeypatch, caplog):
    fake_tool(tmp_path, "minimac4", printing("minimac v4.0.3\n"))
    with pytest.raises(ToolCheckError) as caught:
        check_tools(["minimac4"], path=str(tmp_path))
    message = str(caught.value)
    assert "minimac4:" in message and "is version 4.0.3" in message and "expected minimac4 4.1.x" in message
    assert "apt-get install minimac4" in message and "'minimac4=4.1'" in message
    assert f"set {ALLOW_UNTESTED_ENV}=1" in message

    monkeypatch.setenv(ALLOW_UNTESTED_ENV, "1")
    with caplog.at_level(logging.WARNING, logger="fedimpute.engine.toolcheck"):
        assert check_tools(["minimac4"], path=str(tmp_path)) == {"minimac4": "4.0.3"}
    assert "4.0.3" in caplog.text and ALLOW_UNTESTED_ENV in caplog.text


def test_check_tools__untested_beagle_release(tmp_path):
    fake_tool(tmp_path, "beagle", printing("beagle.27Feb25.75f.jar (version 5.5)\n"
                                           "Copyright (C) 2014-2025 Brian L. Browning\n"))
    (report,) = inspect_tools(["beagle"], path=str(tmp_path))
    assert report.untested_version and report.version == "5.5 (27Feb25.75f)"
    with pytest.raises(ToolCheckError, match=r"beagle: .* is version 5\.5 .*expected beagle 5\.4"):
        check_tools(["beagle"], path=str(tmp_path))


def test_check_tools__old_bcftools_is_refused(tmp_path):
    fake_tool(tmp_path, "bcftools", printing("bcftools 1.9\nUsing htslib 1.9\n"))
    with pytest.raises(ToolCheckError, match=r"bcftools: .* is version 1\.9,.*1\.10 or newer"):
        check_tools(["bcftools"], path=str(tmp_path))


def test_check_tools__missing_tools_are_named(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    with pytest.raises(ToolCheckError) as caught:
        check_tools(["eagle", "tabix"], path=str(tmp_path))
    message = str(caught.value)
    assert "eagle: not found on PATH (looked for bio-eagle or eagle)" in message
    assert "tabix: not found on PATH" in message and "apt-get install tabix" in message
    assert [r.tool for r in caught.value.reports] == ["eagle", "tabix"]


def test_check_tools__hanging_tool_is_stopped(tmp_path):
    """A tool that never answers (its child keeping the pipe open) ends the check within the timeout."""
    fake_tool(tmp_path, "minimac4", "sleep 60\necho 'minimac v4.1.2'\n")
    started = time.monotonic()
    with pytest.raises(ToolCheckError, match=r"did not finish within 0\.5 s"):
        check_tools(["minimac4"], path=str(tmp_path), timeout=0.5)
    assert time.monotonic() - started < 20  # the sleeping child was killed with its group


def test_check_tools__unknown_tool_name():
    with pytest.raises(ValueError, match="unknown tool"):
        check_tools(["shapeit5"])


def conda_like_path(folder: Path, **fakes: str) -> str:
    """A PATH of only ``folder``: the real tools linked in (no `bio-eagle`, as under conda) plus ``fakes``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("bcftools", "tabix", "bgzip", "minimac4", "beagle", "java"):
        if name not in fakes:
            os.symlink(os.path.realpath(shutil.which(name)), folder / name)
    for name, text in fakes.items():
        fake_tool(folder, name, printing(text))
    return str(folder)


def test_engine_start__refuses_web_eagle_before_launching(cli, home, tmp_path):
    path = conda_like_path(tmp_path / "bin", eagle=WEB_EAGLE)
    started = cli("engine", "start", "--json", env={"PATH": path}, timeout=120)
    assert started.returncode == 1, started.stderr
    assert started.stdout == ""  # no JSON document: nothing started
    error = started.stderr.strip()
    assert "\n" not in error and "Traceback" not in error
    assert "local engine cannot start" in error and "eagle:" in error and "different program" in error
    assert "conda remove eagle" in error
    assert not (home / "engine" / "engine.json").exists()  # the server was never launched
    assert json.loads(cli("engine", "status", "--json").stdout)["running"] is False


def test_engine_start__records_tool_versions(cli, home):
    started = cli("engine", "start", "--json", timeout=120)
    try:
        assert started.returncode == 0, started.stderr
        status = json.loads(started.stdout)
        assert status["running"] and set(status["tools"]) == set(SPECS)
        assert status["tools"] == check_tools()
        assert json.loads((home / "engine" / "engine.json").read_text())["tools"] == status["tools"]
        shown = cli("engine", "status")
        assert f"minimac4 {status['tools']['minimac4']}" in shown.stdout
    finally:
        cli("engine", "stop")


def conda_dependencies() -> list[str]:
    """environment.yml's conda dependency specs (the top-level `  - name...` lines, comments dropped)."""
    text = (Path(__file__).resolve().parents[2] / "environment.yml").read_text()
    return [line[4:].split("#")[0].strip() for line in text.splitlines() if line.startswith("  - ")]


def test_environment_yml__pins_the_tested_tools():
    deps = conda_dependencies()
    names = {re.split(r"[=<>]", d)[0] for d in deps}
    assert "eagle" not in names  # bioconda's `eagle` is the unrelated web tool
    for spec in SPECS.values():
        package = re.split(r"[=<>]", spec.conda)[0]
        (pin,) = [d for d in deps if re.split(r"[=<>]", d)[0] == package]
        if spec.tested is not None:  # eagle2=2.4.1 satisfies the check's eagle2=2.4, and so on
            assert pin.startswith(spec.conda), (pin, spec.conda)
        else:
            low = re.search(r">=(\d+)\.(\d+)", pin)
            assert low and (int(low[1]), int(low[2])) >= spec.minimum, (pin, spec.minimum)
