"""hygiene's errors as the exit codes of CONTRACTS.md, for every command."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from hygiene.errors import ConfigError, HygieneError, LockHeld
from hygiene.logs import redact

F = TypeVar("F", bound=Callable[..., Any])


def guarded(function: F) -> F:
    """Turn hygiene's errors into the exit codes of CONTRACTS.md, with a message and no traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except LockHeld as exc:
            click.echo(f"hygiene: {exc}", err=True)
            sys.exit(0)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {redact(problem)}", err=True)
            sys.exit(2)
        except HygieneError as exc:
            click.echo(f"error: {redact(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            quiet_stdout()  # `hygiene audit … | head -1`: the reader had enough; not an error
            sys.exit(0)
        except OSError as exc:
            click.echo(f"error: {redact(describe_os_error(exc))}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def quiet_stdout() -> None:
    """Point stdout at /dev/null so that flushing it at exit does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests)
        pass
    finally:
        os.close(devnull)


def describe_os_error(exc: OSError) -> str:
    """A file-system error as a person reads it: the path, what went wrong."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"
