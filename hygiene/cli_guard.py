"""hygiene's errors as the exit codes of CONTRACTS.md, for every command."""

from __future__ import annotations

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

    return wrapper  # type: ignore[return-value]
