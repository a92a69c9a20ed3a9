"""`pip install .` without extras gives a working package and CLI (no panel, param or bokeh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_bare_install__imports_and_runs_without_ui_extra(tmp_path):
    env_dir = tmp_path / "bare"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", str(ROOT)], check=True, capture_output=True, timeout=600)
    probe = ("import importlib.util, json, fedimpute;"
             "print(json.dumps([m for m in ('panel', 'param', 'bokeh', 'holoviews') "
             "if importlib.util.find_spec(m)]))")
    proc = subprocess.run([py, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert json.loads(proc.stdout) == []  # not even installed
    env = {**os.environ, "FEDIMPUTE_HOME": str(tmp_path / "home")}
    proc = subprocess.run([env_dir / "bin" / "fedimpute", "services", "list", "--json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {r["name"] for r in json.loads(proc.stdout)} == {"michigan", "topmed", "h3africa"}
    proc = subprocess.run([env_dir / "bin" / "fedimpute", "serve", "--port", "5999"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1 and "pip install 'fedimpute[ui]'" in proc.stderr
    assert sys.executable != str(py)
