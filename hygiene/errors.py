"""Errors that carry a user-facing message and map to the exit codes of CONTRACTS.md."""

from __future__ import annotations


class HygieneError(Exception):
    """Base class: the message is safe to show a person (no tokens, no tracebacks needed)."""

    exit_code = 1


class ConfigError(HygieneError):
    """Bad usage or configuration. Each problem is named by its key path."""

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ExternalError(HygieneError):
    """An outside system failed after retries (exit 1). ``system`` names it: slack, gclick …"""

    def __init__(self, system: str, message: str, *, transient: bool = True) -> None:
        self.system = system
        self.transient = transient
        super().__init__(f"{system}: {message}")


class AuthError(ExternalError):
    """Credentials were refused. Never transient; the message names the system, not the secret."""

    def __init__(self, system: str, message: str) -> None:
        super().__init__(system, message, transient=False)


class BudgetExhausted(HygieneError):
    """The per-cycle call budget (or a long Retry-After) says: leave the rest for the next cycle."""

    def __init__(self, method: str, reason: str) -> None:
        self.method = method
        super().__init__(f"{method}: {reason}")


class LockHeld(HygieneError):
    exit_code = 0


class InjectedCrash(BaseException):
    """Raised by a failpoint; a BaseException so that no ``except Exception`` swallows it."""
