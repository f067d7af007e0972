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


class TransientError(ExternalError):
    """Worth trying again later: 429, 5xx, timeouts, connection errors, malformed bodies, or a
    lookup that failed because its source failed. An outbox entry stays pending with a backoff."""

    def __init__(self, system: str, message: str) -> None:
        super().__init__(system, message, transient=True)


class OutcomeUnknown(TransientError):
    """A write that may or may not have been carried out (timeout, reset, 5xx, malformed answer).

    Never resent blind: its effect is first looked for by its key."""


class RateLimited(TransientError):
    """Retry-After longer than this cycle may wait: the method is left for a later cycle."""

    def __init__(self, system: str, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(system, message)


class PermanentError(ExternalError):
    """Trying again will not help: a validation error the remote names, a 4xx other than 408/429."""

    def __init__(self, system: str, message: str) -> None:
        super().__init__(system, message, transient=False)


class NotFound(PermanentError):
    """The remote says the thing does not exist (HTTP 404, Slack ``*_not_found``)."""


class ChannelGone(PermanentError):
    """The channel was deleted or archived, or the bot was removed from it."""


class AlreadyDone(PermanentError):
    """The remote says the write was already carried out (``already_reacted``): success."""


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
