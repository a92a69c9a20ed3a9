"""The domain package must import and work without the UI stack."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import fedimpute

UI_MODULES = ("panel", "param", "bokeh", "holoviews")


def _domain_modules() -> list[str]:
    names = ["fedimpute"]
    for info in pkgutil.walk_packages(fedimpute.__path__, prefix="fedimpute."):
        if info.name == "fedimpute.ui" or info.name.startswith("fedimpute.ui."):
            continue
        if info.name == "fedimpute.__main__":
            continue
        names.append(info.name)
    return names


def test_import__domain_modules_load_no_ui_stack():
    """We can import fedimpute and every non-UI module without panel, param, bokeh or holoviews."""
    modules = _domain_modules()
    assert "fedimpute.store" in modules and "fedimpute.cli" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {UI_MODULES!r})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []


def test_import__the_check_can_fail():
    """The UI stack is installed in the test environment, so the import check above is meaningful."""
    proc = subprocess.run([sys.executable, "-c", "import panel, sys; print('bokeh' in sys.modules)"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "True", proc.stderr


def test_public_api__all_is_sorted_and_complete():
    """We can rely on fedimpute.__all__: sorted, and every name in it exists."""
    assert list(fedimpute.__all__) == sorted(fedimpute.__all__)
    for name in fedimpute.__all__:
        assert hasattr(fedimpute, name), name
