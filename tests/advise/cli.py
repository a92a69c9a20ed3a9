"""Running ``fedimpute advise`` and ``fedimpute panels add-sites`` in-process, through ``fedimpute.cli.main``.

Until fedimpute/cli/__init__.py registers them (``app.add_typer(panels_app, name="panels")`` in place of
``app.command("panels")(panels)``, and ``app.command("advise")(advise)``), the tests run ``main`` on a copy
of the app with exactly those two changes, so exit codes and error lines are main's own.
"""

from __future__ import annotations

import json
from typing import Any

import typer

import fedimpute.cli as cli
from fedimpute.cli.advise import advise, panels_app


def advisor_app() -> typer.Typer:
    """The real app once it has ``advise``; else a copy with the advisor's commands registered."""
    if any(c.name == "advise" for c in cli.app.registered_commands):
        return cli.app
    app = typer.Typer(name="fedimpute", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    app.callback()(cli._global)
    app.registered_commands = [c for c in cli.app.registered_commands if c.name != "panels"]
    app.registered_groups = list(cli.app.registered_groups)
    app.add_typer(panels_app, name="panels")
    app.command("advise")(advise)
    return app


def run(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """``fedimpute ARGS``: (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli, "app", advisor_app())
    capsys.readouterr()
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, monkeypatch, *args: str) -> Any:
    code, out, err = run(capsys, monkeypatch, *args, "--json")
    assert code == 0, err
    return json.loads(out)
