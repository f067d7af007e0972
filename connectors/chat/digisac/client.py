"""Digisac's REST API over the shared HTTP client (connectors/http.py), under a per-cycle call budget.

Facts this rests on (research ``../shared/research/digisac-api.md``, with its sources):

- Every call carries ``Authorization: Bearer <token>`` (n8n-nodes-digisac credentials, from the
  official Postman collection); a refused token is HTTP 401 ``{"error":"HttpError","message":
  "Invalid token: access token is invalid","status":401}`` (recorded, douglara/digisac cassettes).
- Lists answer ``{data,total,limit,skip,currentPage,lastPage,from,to}``, pages are 1-based,
  ``perPage`` sets the size and ``limit`` is ignored (recorded); filters, order and includes go
  in one JSON ``query=`` (Postman collection; herreratc/digisac-historico), which is how this
  client sends them. ``$gte`` on ``createdAt`` is documented for campaigns and used on tickets'
  ``updatedAt``; on ``/messages`` it is INFERRED (same query engine).
- No rate limit or ``Retry-After`` was ever observed (UNVERIFIED): a 429 is handled as everywhere
  else (short waits honoured, long ones defer), 5xx and timeouts are retried for reads, and a
  write that may have landed raises :class:`~hygiene.errors.OutcomeUnknown` (connectors/retry.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.budget import CallBudget
from connectors.http import HttpClient
from hygiene.errors import AuthError, TransientError

SYSTEM = "digisac"


class DigisacClient:
    """Digisac requests with a budget, typed errors and the token's key path in auth errors."""

    def __init__(self, http: HttpClient, budget: CallBudget, *, token: str, token_path: str) -> None:
        self.http = http
        self.budget = budget
        self.token_path = token_path
        http.auth_headers = lambda: {"Authorization": f"Bearer {token}"}

    def get(self, name: str, path: str, query: Mapping[str, Any] | None = None) -> Any:
        """One GET; ``query`` goes as Digisac's JSON ``query=`` parameter."""
        params = {"query": json.dumps(query, separators=(",", ":"))} if query else None
        return self._call(name, "GET", path, params=params)

    def post(self, name: str, path: str, body: Mapping[str, Any]) -> Any:
        """One POST (never re-sent after a failure that may have carried it out)."""
        return self._call(name, "POST", path, json=dict(body), headers={"Content-Type": "application/json"})

    def pages(self, name: str, path: str, query: Mapping[str, Any], per_page: int) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, first to last (``currentPage`` < ``lastPage`` means more)."""
        page = 1
        while True:
            body = self.get(name, path, {**query, "page": page, "perPage": per_page})
            rows, current, last = envelope(body, f"GET {path}")
            yield rows
            if current >= last or not rows:
                return
            page = current + 1

    def _call(self, name: str, method: str, path: str, **kwargs: Any) -> Any:
        self.budget.spend(name)
        try:
            return self.http.request(method, path, **kwargs)
        except AuthError as exc:
            raise AuthError(SYSTEM, f"{exc.args[0].split(': ', 1)[-1]}; check the token in {self.token_path}") from None

    def calls(self) -> dict[str, int]:
        return dict(self.budget.used)


def envelope(body: Any, where: str) -> tuple[list[dict[str, Any]], int, int]:
    """``data``, ``currentPage`` and ``lastPage`` of a list answer; a malformed one is transient."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise TransientError(SYSTEM, f"{where}: the answer has no 'data' list (malformed body)")
    current, last = body.get("currentPage"), body.get("lastPage")
    if not isinstance(current, int) or not isinstance(last, int) or isinstance(current, bool):
        raise TransientError(SYSTEM, f"{where}: the answer has no currentPage/lastPage (malformed body)")
    return [row for row in body["data"] if isinstance(row, dict)], current, last
