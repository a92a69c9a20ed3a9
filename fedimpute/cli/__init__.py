"""The ``fedimpute`` command line (contract: shared/contracts/cli.md).

Exit codes: 0 success, 1 operation failed, 2 bad usage or input, 3 not found.
Errors are one line on stderr; ``--debug`` shows the traceback too.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Annotated

import typer

from fedimpute.cli.advise import advise, panels_app
from fedimpute.cli.check import check
from fedimpute.cli.engine import demo, engine_app
from fedimpute.cli.jobs import jobs_app
from fedimpute.cli.notify import notify_app
from fedimpute.cli.provenance import provenance
from fedimpute.cli.remote import results_download, submit
from fedimpute.cli.report import quality, report
from fedimpute.cli.serve import serve
from fedimpute.cli.services import login, services_app
from fedimpute.cli.users import users_app
from fedimpute.exceptions import FedImputeError
from fedimpute.redaction import redact

__all__ = ["app", "main"]

app = typer.Typer(
    name="fedimpute",
    help="Federated genotype imputation: services, pre-flight checks, jobs, results and quality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(services_app, name="services")
app.add_typer(jobs_app, name="jobs")
app.add_typer(users_app, name="users")
app.command("login")(login)
app.add_typer(panels_app, name="panels")
app.command("advise")(advise)
app.command("submit")(submit)
app.command("quality")(quality)
app.command("check")(check)
app.command("report")(report)
app.command("provenance")(provenance)
app.command("demo")(demo)
app.command("serve")(serve)
results_app = typer.Typer(help="Result files of jobs.", no_args_is_help=True)
results_app.command("download")(results_download)
app.add_typer(results_app, name="results")
app.add_typer(engine_app, name="engine")
app.add_typer(notify_app, name="notify")

_debug = False

# typer >= 0.29 vendors click and raises typer.TyperException subclasses; older
# typer raises click's own.  Either way the class carries exit_code and format_message().
try:  # pragma: no cover - depends on the installed typer
    import click

    _CLI_ERRORS: tuple[type[typer.TyperException] | type[click.ClickException], ...] = (
        typer.TyperException, click.ClickException)
    _ABORTS: tuple[type[BaseException], ...] = (typer.Abort, click.Abort)
except ImportError:  # pragma: no cover
    _CLI_ERRORS = (typer.TyperException,)
    _ABORTS = (typer.Abort,)


@app.callback()
def _global(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show info logs.")] = False,
) -> None:
    global _debug
    _debug = debug
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"error: {redact(message)}\n")
    return code


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app and turn every failure into one line and an exit code."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    try:
        result = command.main(args=args, prog_name="fedimpute", standalone_mode=False)
    except FedImputeError as exc:
        if _debug:
            traceback.print_exc()
        return _fail(str(exc), exc.exit_code)
    except _CLI_ERRORS as exc:
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message()
        if not message:  # e.g. no arguments: the help text was already printed
            return exc.exit_code
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None and exc.exit_code == 2 else ""
        return _fail(message + hint, exc.exit_code)
    except _ABORTS:
        return _fail("aborted", 130)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # a bug: still one line, unless --debug
        if _debug or "--debug" in args:
            traceback.print_exc()
        return _fail(f"{type(exc).__name__}: {exc} (re-run with --debug for the traceback and report it)", 1)
    return result if isinstance(result, int) else 0
