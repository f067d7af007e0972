"""Calls a connector may make per cycle, per method or endpoint: what keeps a cycle within the
platform's rate limits and leaves the rest for the next cycle. A method rate-limited for long is
closed for the rest of the cycle."""

from __future__ import annotations

from collections.abc import Mapping

from hygiene.errors import BudgetExhausted

DEFAULT_LIMIT = 10
"""Calls a cycle allows a method its connector's budget does not name."""


class CallBudget:
    """Calls allowed per method (or endpoint) in one cycle; methods rate-limited for long are closed."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self.limits = dict(limits)
        self.used: dict[str, int] = {}
        self.closed: dict[str, str] = {}

    def spend(self, method: str) -> None:
        if method in self.closed:
            raise BudgetExhausted(method, self.closed[method])
        used = self.used.get(method, 0)
        limit = self.limits.get(method, DEFAULT_LIMIT)
        if used >= limit:
            raise BudgetExhausted(method, f"call budget of {limit} per cycle spent")
        self.used[method] = used + 1

    def close(self, method: str, reason: str) -> None:
        self.closed[method] = reason
