"""A Zendesk Support API subset on loopback, as its documentation describes it.

Basic auth ``{email}/token:{token}``; the cursor-based incremental ticket export with
``start_time``/``cursor``, ``after_cursor``, ``end_of_stream`` and ``include`` sideloads
(users, organizations, metric_sets); tickets by id and by ``external_id``; create with an
``Idempotency-Key``; internal notes (``comment.public = false``), which move the ticket's
``updated_at`` but not ``assignee_updated_at``; organizations with cursor pagination.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hygiene.clock import Clock, SystemClock
from sandbox.http_server import FaultBook, JsonApiServer, Reply, Request


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ZendeskState:
    clock: Clock = field(default_factory=SystemClock)
    email: str = "hygiene@horizonte.example"
    token: str = "sandbox-zendesk-token"
    page_size: int = 100
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: list[tuple[int, str]] = field(default_factory=list)
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: FaultBook = field(default_factory=FaultBook)
    created: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9000))

    def add_user(self, user_id: int, name: str, email: str) -> None:
        self.users[user_id] = {"id": user_id, "name": name, "email": email, "role": "agent"}

    def add_organization(self, org_id: int, name: str) -> None:
        self.organizations[org_id] = {"id": org_id, "name": name}

    def add_ticket(
        self, ticket_id: int, subject: str, status: str = "open", *, at: datetime | None = None, **fields: Any
    ) -> None:
        moment = _iso(at or self.clock.now())
        with self.lock:
            self.tickets[ticket_id] = {
                "id": ticket_id, "subject": subject, "status": status, "priority": fields.pop("priority", "normal"),
                "created_at": moment, "updated_at": moment, "due_at": None, "external_id": None, **fields,
            }  # fmt: skip
            self.metrics[ticket_id] = {"ticket_id": ticket_id, "assignee_updated_at": moment}

    def update(self, ticket_id: int, *, by_assignee: bool = True, **fields: Any) -> None:
        moment = _iso(self.clock.now())
        with self.lock:
            self.tickets[ticket_id].update(fields, updated_at=moment)
            if by_assignee:
                self.metrics[ticket_id]["assignee_updated_at"] = moment

    # routes -----------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        return request.headers.get("Authorization", "") == f"Basic {expected}"

    def _denied(self) -> Reply:
        return 401, {"error": "Couldn't authenticate you"}, {}

    def _sideloads(self, tickets: list[dict[str, Any]], include: str) -> dict[str, Any]:
        wanted = set(include.split(",")) if include else set()
        extra: dict[str, Any] = {}
        if "users" in wanted:
            ids = {t.get("assignee_id") for t in tickets} | {t.get("requester_id") for t in tickets}
            extra["users"] = [self.users[i] for i in ids if i in self.users]
        if "organizations" in wanted:
            ids = {t.get("organization_id") for t in tickets}
            extra["organizations"] = [self.organizations[i] for i in ids if i in self.organizations]
        if "metric_sets" in wanted:
            extra["metric_sets"] = [self.metrics[t["id"]] for t in tickets if t["id"] in self.metrics]
        return extra

    def export(self, request: Request) -> Reply:
        if not self._authorized(request):
            return self._denied()
        query = request.query
        with self.lock:
            ordered = sorted(self.tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
            if "cursor" in query:
                after = base64.b64decode(query["cursor"]).decode().split("|")
                position = (after[0], int(after[1]))
                remaining = [t for t in ordered if (t["updated_at"], t["id"]) > position]
            elif "start_time" in query:
                start = _iso(datetime.fromtimestamp(int(query["start_time"]), UTC))
                remaining = [t for t in ordered if t["updated_at"] >= start]
            else:
                return 400, {"error": "InvalidValue", "description": "start_time or cursor is required"}, {}
            page = [dict(t) for t in remaining[: self.page_size]]
        last = page[-1] if page else None
        cursor = (
            base64.b64encode(f"{last['updated_at']}|{last['id']}".encode()).decode() if last else query.get("cursor")
        )
        body = {
            "tickets": page,
            "after_cursor": cursor,
            "before_cursor": None,
            "end_of_stream": len(remaining) <= self.page_size,
            **self._sideloads(page, query.get("include", "")),
        }
        return 200, body, {}

    def show(self, request: Request) -> Reply:
        if not self._authorized(request):
            return self._denied()
        ticket = self.tickets.get(int(request.groups[0]))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        body: dict[str, Any] = {"ticket": ticket, **self._sideloads([ticket], request.query.get("include", ""))}
        if "metric_sets" in request.query.get("include", ""):
            body["metric_set"] = self.metrics.get(ticket["id"])
        return 200, body, {}

    def by_external_id(self, request: Request) -> Reply:
        if not self._authorized(request):
            return self._denied()
        key = request.query.get("external_id")
        return 200, {"tickets": [t for t in self.tickets.values() if key and t.get("external_id") == key]}, {}

    def create(self, request: Request) -> Reply:
        if not self._authorized(request):
            return self._denied()
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            if key and key in self.idempotency:
                return 201, self.idempotency[key], {"x-idempotency-lookup": "hit"}
            data = (request.body or {}).get("ticket") or {}
            if not data.get("comment"):
                return 422, {"error": "RecordInvalid", "description": "Description: cannot be blank"}, {}
            ticket_id = next(self._ids)
            fields = {k: v for k, v in data.items() if k not in ("comment", "subject")}
            self.add_ticket(ticket_id, data.get("subject", ""), "new", **fields)
            body = {"ticket": self.tickets[ticket_id]}
            self.created.append(data)
            if key:
                self.idempotency[key] = body
        return 201, body, {}

    def put(self, request: Request) -> Reply:
        if not self._authorized(request):
            return self._denied()
        ticket_id = int(request.groups[0])
        if ticket_id not in self.tickets:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        comment = ((request.body or {}).get("ticket") or {}).get("comment") or {}
        with self.lock:
            if comment:
                self.notes.append((ticket_id, str(comment.get("body"))))
            self.update(ticket_id, by_assignee=False)
        return 200, {"ticket": self.tickets[ticket_id]}, {}

    def list_organizations(self, request: Request) -> Reply:
        if not self._authorized(request):
            return self._denied()
        size = int(request.query.get("page[size]", 100))
        ordered = sorted(self.organizations.values(), key=lambda o: o["id"])
        after = int(request.query.get("page[after]") or 0)
        page = [o for o in ordered if o["id"] > after][:size]
        more = bool(page) and page[-1]["id"] < ordered[-1]["id"]
        meta = {"has_more": more, "after_cursor": str(page[-1]["id"]) if page else None}
        return 200, {"organizations": page, "meta": meta, "links": {"next": "more" if more else None}}, {}

    def server(self) -> JsonApiServer:
        routes = [
            ("GET", r"/api/v2/incremental/tickets/cursor\.json", "export", self.export),
            ("GET", r"/api/v2/tickets/(\d+)\.json", "show", self.show),
            ("GET", r"/api/v2/tickets\.json", "external_id", self.by_external_id),
            ("POST", r"/api/v2/tickets\.json", "create", self.create),
            ("PUT", r"/api/v2/tickets/(\d+)\.json", "update", self.put),
            ("GET", r"/api/v2/organizations\.json", "organizations", self.list_organizations),
        ]
        return JsonApiServer(routes, self.faults)
