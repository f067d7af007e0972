"""A Digisac REST API (``/api/v1``) on loopback, as recorded traffic and the Postman collection show it.

What it reproduces (research ``digisac-api.md`` §1–§10): bearer auth with the recorded 401
envelope; lists answering ``{data,total,limit,skip,currentPage,lastPage,from,to}``, 15 a page
unless ``perPage``, ``limit`` ignored; filters as one JSON ``query=`` or bracket params
(``where[a][$op]``, ``order[i][j]``, ``include[i]``), with ``$eq $ne $in $gt $gte $lt $lte $iLike
$and $or`` and ``data.x`` paths; messages stamped ``createdAt`` by the server (history synced
late keeps an older WhatsApp ``timestamp``, ``data.isNew: false`` and no ticket); one open ticket
per contact with ``type: "ticket"`` event rows; ``POST /messages`` (a ``type: "comment"`` is an
internal note; anything else reaches the client and, without ``dontOpenTicket``, opens a
ticket); ``PATCH /messages/{id}`` edits; reactions and ticket transfer/close; 404 and 400
envelopes; faults per route (sandbox/http_server.py) and an optional per-second rate limit.

People act through methods: :meth:`DigisacState.client_writes`, :meth:`agent_writes`,
:meth:`sync_history`, :meth:`edit`, :meth:`delete`; :meth:`comments` is what hygiene wrote and
:meth:`client_visible` every API write that would reach a client (it must stay empty).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hygiene.clock import Clock, SystemClock
from sandbox.http_server import FaultBook, JsonApiServer, Reply, Request

SCENARIO = Path(__file__).parent / "scenarios" / "digisac.json"
NAMESPACE = uuid.UUID("6f1c2a52-8c1e-4c8e-9a55-7c2b7d1d0001")
API = "/api/v1"
ID = r"([0-9a-f-]{36})"
DEFAULT_PER_PAGE = 15
UNAUTHORIZED = {"error": "HttpError", "message": "Invalid token: access token is invalid", "status": 401}


def make_id(key: str) -> str:
    """A stable UUID for a scenario key (Digisac ids are UUID strings)."""
    return str(uuid.uuid5(NAMESPACE, key))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(status: int, name: str, message: str) -> Reply:
    return status, {"error": name, "message": message, "status": status}, {}


@dataclass
class DigisacState:
    clock: Clock = field(default_factory=SystemClock)
    token: str = "sandbox-digisac-token-not-real"
    me: dict[str, Any] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    departments: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    api_writes: list[dict[str, Any]] = field(default_factory=list)
    """Every write received through the API, with ``visible`` saying whether a client would see it."""
    faults: FaultBook = field(default_factory=FaultBook)
    rate_per_second: int = 0
    """Above this many calls in one second: 429 with Retry-After 1 (0: no limit, as observed)."""
    while_paging: Callable[[], None] | None = None
    """Called once, before the second list request after it is set: a change while a client pages."""
    _list_calls: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    _seq: int = 0
    _window: list[float] = field(default_factory=list)

    # building --------------------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, path: Path = SCENARIO, clock: Clock | None = None) -> DigisacState:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = cls(clock=clock or SystemClock(), token=data["token"])
        state.me = state.add_user("me", data["me"]["name"], data["me"]["email"])
        for department in data["departments"]:
            state.add_department(department["key"], department["name"])
        for user in data["users"]:
            state.add_user(user["key"], user["name"], user["email"], user.get("departments", []))
        for service in data["services"]:
            state.add_service(service["key"], service["name"], archived=service.get("archived", False))
        for org in data["organizations"]:
            state.organizations[make_id(org["key"])] = {"id": make_id(org["key"]), "name": org["name"]}
        for contact in data["contacts"]:
            state.add_contact(contact)
        now = state.clock.now()
        for item in data["messages"]:
            at = now - timedelta(minutes=item["minutes_ago"])
            contact = make_id(item["contact"])
            if "sent_days_ago" in item:
                state.sync_history(contact, item["text"], now - timedelta(days=item["sent_days_ago"]), at=at)
            elif item["from"] == "client":
                state.client_writes(contact, item["text"], at=at)
            else:
                state.agent_writes(make_id(item["from"]), contact, item["text"], at=at)
        return state

    def _stamp(self, at: datetime | None) -> dict[str, str]:
        moment = iso(at or self.clock.now())
        return {"createdAt": moment, "updatedAt": moment}

    def add_user(self, key: str, name: str, email: str, departments: list[str] | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": make_id(key), "name": name, "email": email, "phoneNumber": None, "isSuperAdmin": False,
            "isClientUser": False, "active": True, "status": "offline", "archivedAt": None, "deletedAt": None,
            "departmentIds": [make_id(d) for d in departments or []], **self._stamp(None),
        }  # fmt: skip
        self.users[user["id"]] = user
        return user

    def add_department(self, key: str, name: str) -> None:
        self.departments[make_id(key)] = {"id": make_id(key), "name": name, "archivedAt": None, **self._stamp(None)}

    def add_service(self, key: str, name: str, *, archived: bool = False) -> str:
        service_id = make_id(key)
        self.services[service_id] = {
            "id": service_id, "name": name, "type": "whatsapp",
            "archivedAt": iso(self.clock.now()) if archived else None,
            "data": {"status": {"isConnected": not archived, "isStarted": not archived, "state": "NORMAL"}},
            "settings": {}, "defaultDepartmentId": None, "deletedAt": None, **self._stamp(None),
        }  # fmt: skip
        return service_id

    def archive_service(self, service_id: str) -> None:
        self.services[service_id]["archivedAt"] = iso(self.clock.now())

    def add_contact(self, spec: Mapping[str, Any]) -> str:
        contact_id = make_id(spec["key"])
        person = spec.get("person")
        self.contacts[contact_id] = {
            "id": contact_id, "name": spec.get("name", ""), "alternativeName": spec.get("alternativeName"),
            "internalName": spec.get("internalName"), "data": {"number": spec["number"], "valid": True},
            "serviceId": make_id(spec["service"]), "visible": True, "isGroup": False, "isMe": False,
            "defaultDepartmentId": make_id(spec["department"]) if spec.get("department") else None,
            "defaultUserId": make_id(spec["user"]) if spec.get("user") else None,
            "currentTicketId": None, "personId": make_id(f"person:{spec['key']}") if person else None,
            "tags": [{"id": make_id(f"tag:{t}"), "label": t} for t in spec.get("tags", [])],
            "customFieldValues": [
                {"customFieldId": make_id(f"field:{k}"), "value": v} for k, v in spec.get("custom", {}).items()
            ],
            "person": None if not person else {
                "id": make_id(f"person:{spec['key']}"), "name": person["name"], "document": person.get("document"),
                "organizations": [self.organizations[make_id(o)] for o in person.get("organizations", [])],
            },
            "deletedAt": None, **self._stamp(None),
        }  # fmt: skip
        return contact_id

    # people acting -----------------------------------------------------------------------------
    def _next(self) -> str:
        self._seq += 1
        return make_id(f"message:{self._seq}")

    def _message(self, contact_id: str, text: str | None, at: datetime | None, **fields: Any) -> dict[str, Any]:
        contact = self.contacts[contact_id]
        moment = iso(at or self.clock.now())
        ticket = self.tickets.get(contact["currentTicketId"] or "")
        row = {
            "id": self._next(), "type": "chat", "text": text, "isFromMe": False, "sent": True, "visible": True,
            "timestamp": moment[:-5] + ".000Z", "createdAt": moment, "updatedAt": moment, "deletedAt": None,
            "data": {"ack": -1, "isNew": True, "isFirst": False}, "serviceId": contact["serviceId"],
            "contactId": contact_id, "fromId": contact_id, "toId": None, "userId": None,
            "ticketId": ticket["id"] if ticket else None, "ticketUserId": ticket["userId"] if ticket else None,
            "ticketDepartmentId": ticket["departmentId"] if ticket else None, "origin": None,
            "isFromBot": False, "isComment": False, "quotedMessageId": None, "files": None, **fields,
        }  # fmt: skip
        self.messages.append(row)
        return row

    def open_ticket(self, contact_id: str, at: datetime | None) -> dict[str, Any]:
        contact = self.contacts[contact_id]
        if contact["currentTicketId"]:
            return self.tickets[contact["currentTicketId"]]
        ticket = {
            "id": make_id(f"ticket:{len(self.tickets) + 1}"), "protocol": f"2026{len(self.tickets) + 1:06d}",
            "isOpen": True, "contactId": contact_id, "departmentId": contact["defaultDepartmentId"],
            "userId": contact["defaultUserId"], "origin": "contact", "startedAt": iso(at or self.clock.now()),
            "endedAt": None, **self._stamp(at),
        }  # fmt: skip
        self.tickets[ticket["id"]] = ticket
        contact["currentTicketId"] = ticket["id"]
        self._message(contact_id, None, at, type="ticket", origin="ticket", data={"ticketOpen": True})
        return ticket

    def client_writes(self, contact_id: str, text: str, at: datetime | None = None) -> str:
        """The client writes on WhatsApp: a ticket opens if none is open."""
        with self.lock:
            self.open_ticket(contact_id, at)
            return str(self._message(contact_id, text, at)["id"])

    def agent_writes(self, user_id: str, contact_id: str, text: str, at: datetime | None = None) -> str:
        """An agent answers from Digisac's web app (``isFromMe``, ``origin: "user"``)."""
        with self.lock:
            self.open_ticket(contact_id, at)
            own = make_id(f"own:{self.contacts[contact_id]['serviceId']}")
            row = self._message(
                contact_id, text, at, isFromMe=True, userId=user_id, fromId=own, origin="user", data={"ack": 2}
            )
            return str(row["id"])

    def sync_history(self, contact_id: str, text: str, sent_at: datetime, at: datetime | None = None) -> str:
        """A message sent long ago arrives now, from a phone's history sync: no ticket, ``isNew: false``."""
        with self.lock:
            row = self._message(contact_id, text, at, ticketId=None, ticketUserId=None, ticketDepartmentId=None)
            row["timestamp"] = iso(sent_at)[:-5] + ".000Z"
            row["data"] = {"ack": -1, "isNew": False, "isFirst": False}
            return str(row["id"])

    def edit(self, message_id: str, text: str) -> None:
        with self.lock:
            row = self._find(message_id)
            assert row is not None
            row.update(text=text, updatedAt=iso(self.clock.now()))
            row["data"] = {**row["data"], "editedAt": iso(self.clock.now())}

    def delete(self, message_id: str) -> None:
        with self.lock:
            row = self._find(message_id)
            assert row is not None
            row["deletedAt"] = iso(self.clock.now())

    def comments(self) -> list[dict[str, Any]]:
        """The internal comments hygiene wrote (through the API)."""
        return [w["message"] for w in self.api_writes if w["kind"] == "comment"]

    def client_visible(self) -> list[dict[str, Any]]:
        """Every API write that reached (or would reach) a client: must stay empty."""
        return [w for w in self.api_writes if w["visible"]]

    def _find(self, message_id: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["id"] == message_id and not m["deletedAt"]), None)

    # the API -----------------------------------------------------------------------------------
    def _guard(self, request: Request) -> Reply | None:
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return 401, UNAUTHORIZED, {}
        if self.rate_per_second:
            now = time.monotonic()
            self._window = [t for t in self._window if now - t < 1] + [now]
            if len(self._window) > self.rate_per_second:
                return (
                    429,
                    {"error": "TooManyRequests", "message": "Too many requests", "status": 429},
                    {"Retry-After": "1"},
                )
        return None

    def _list(
        self, rows: list[dict[str, Any]], request: Request, embed: Callable[[dict[str, Any], list[Any]], Any]
    ) -> Reply:
        query = parse_query(request.query)
        kept = [row for row in rows if not row.get("deletedAt") and matches(row, query.get("where") or {})]
        for key, direction in reversed(query.get("order") or []):
            kept.sort(key=_sort_key(str(key)), reverse=str(direction).upper() == "DESC")
        per_page = int(query.get("perPage") or DEFAULT_PER_PAGE)
        page = max(1, int(query.get("page") or 1))
        skip = (page - 1) * per_page
        if self.while_paging:
            self._list_calls += 1
            if self._list_calls == 2:
                hook, self.while_paging, self._list_calls = self.while_paging, None, 0
                hook()
                return self._list(rows, request, embed)
        chunk = [embed(dict(row), query.get("include") or []) for row in kept[skip : skip + per_page]]
        last = max(1, -(-len(kept) // per_page))
        body = {
            "data": [_attributes(row, query.get("attributes")) for row in chunk], "total": len(kept),
            "limit": per_page, "skip": skip, "currentPage": page, "lastPage": last, "from": skip,
            "to": skip + per_page,
        }  # fmt: skip
        return 200, body, {}

    def _embed_message(self, row: dict[str, Any], include: list[Any]) -> dict[str, Any]:
        for item in include:
            model = item.get("model") if isinstance(item, dict) else item
            attributes = item.get("attributes") if isinstance(item, dict) else None
            if model == "contact":
                row["contact"] = _attributes(self.contacts.get(row["contactId"], {}), attributes)
            elif model == "user" and row.get("userId") in self.users:
                row["user"] = _attributes(self.users[row["userId"]], attributes)
            elif model == "ticket" and row.get("ticketId") in self.tickets:
                row["ticket"] = dict(self.tickets[row["ticketId"]])
        return row

    def _embed_contact(self, row: dict[str, Any], include: list[Any]) -> dict[str, Any]:
        wanted = {item.get("model") if isinstance(item, dict) else item for item in include}
        for key in ("tags", "customFieldValues", "person"):
            if key not in wanted:
                row.pop(key, None)
        return row

    def route_get(self, rows: Callable[[], list[dict[str, Any]]], embed: Any = None) -> Callable[[Request], Reply]:
        def handler(request: Request) -> Reply:
            if denied := self._guard(request):
                return denied
            with self.lock:
                return self._list(rows(), request, embed or (lambda row, _: row))

        return handler

    def route_one(self, table: Callable[[], Mapping[str, dict[str, Any]]], name: str) -> Callable[[Request], Reply]:
        def handler(request: Request) -> Reply:
            if denied := self._guard(request):
                return denied
            row = table().get(request.groups[0])
            if row is None or row.get("deletedAt"):
                return _error(404, "NotFoundHttpError", f"{name} ({request.groups[0]}) not found.")
            return 200, row, {}

        return handler

    def me_route(self, request: Request) -> Reply:
        return self._guard(request) or (200, {**self.me, "accountId": make_id("account")}, {})

    def post_message(self, request: Request) -> Reply:
        if denied := self._guard(request):
            return denied
        body = request.body if isinstance(request.body, dict) else {}
        contact = self.contacts.get(str(body.get("contactId") or ""))
        if contact is None:
            return _error(400, "BadRequestHttpError", "contactId or number is required.")
        with self.lock:
            if body.get("type") == "comment":
                row = self._comment(contact["id"], body)
                self.api_writes.append({"kind": "comment", "visible": False, "message": row, "body": body})
                return 200, row, {}
            if not body.get("dontOpenTicket"):
                self.open_ticket(contact["id"], None)
            row = self._message(contact["id"], str(body.get("text") or ""), None, isFromMe=True, origin="user",
                                userId=body.get("userId") or self.me["id"], data={"ack": 0})  # fmt: skip
            self.api_writes.append({"kind": "message", "visible": True, "message": row, "body": body})
            return 200, {k: v for k, v in row.items() if k not in ("createdAt", "updatedAt")}, {}

    def _comment(self, contact_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._message(
            contact_id, str(body.get("text") or ""), None, type="comment", isComment=True, isFromMe=True,
            userId=body.get("userId") or self.me["id"], origin=body.get("origin") or "user", data={"ack": 0},
        )  # fmt: skip

    def client_visible_route(self, kind: str) -> Callable[[Request], Reply]:
        """Edits, reactions, ticket transfers and closes: each reaches the client (or its WhatsApp)."""

        def handler(request: Request) -> Reply:
            if denied := self._guard(request):
                return denied
            with self.lock:
                self.api_writes.append(
                    {"kind": kind, "visible": True, "target": request.groups[0], "body": request.body}
                )
                row = self._find(request.groups[0])
                if kind == "edit" and row is not None and isinstance(request.body, dict):
                    row.update(text=request.body.get("text"), updatedAt=iso(self.clock.now()))
            return 200, row or {}, {}

        return handler

    def server(self) -> JsonApiServer:
        messages = lambda: self.messages  # noqa: E731
        contacts = lambda: list(self.contacts.values())  # noqa: E731
        by_id = lambda: {m["id"]: m for m in self.messages}  # noqa: E731
        routes = [
            ("GET", f"{API}/me", "me", self.me_route),
            ("GET", f"{API}/services", "services", self.route_get(lambda: list(self.services.values()))),
            ("GET", f"{API}/services/{ID}", "service", self.route_one(lambda: self.services, "Service")),
            ("GET", f"{API}/users", "users", self.route_get(lambda: list(self.users.values()))),
            ("GET", f"{API}/users/{ID}", "user", self.route_one(lambda: self.users, "User")),
            ("GET", f"{API}/departments", "departments", self.route_get(lambda: list(self.departments.values()))),
            ("GET", f"{API}/contacts", "contacts", self.route_get(contacts, self._embed_contact)),
            ("GET", f"{API}/contacts/{ID}", "contact", self.route_one(lambda: self.contacts, "Contact")),
            ("GET", f"{API}/tickets", "tickets", self.route_get(lambda: list(self.tickets.values()))),
            ("GET", f"{API}/messages", "messages.list", self.route_get(messages, self._embed_message)),
            ("GET", f"{API}/messages/{ID}", "message", self.route_one(by_id, "Message")),
            ("POST", f"{API}/messages", "messages.create", self.post_message),
            ("PATCH", f"{API}/messages/{ID}", "messages.edit", self.client_visible_route("edit")),
            ("POST", f"{API}/messages/{ID}/send-reaction", "messages.reaction", self.client_visible_route("reaction")),
            ("POST", f"{API}/contacts/{ID}/ticket/transfer", "tickets.transfer", self.client_visible_route("transfer")),
            ("POST", f"{API}/contacts/{ID}/ticket/close", "tickets.close", self.client_visible_route("close")),
        ]  # fmt: skip
        return JsonApiServer(routes, self.faults)


# queries --------------------------------------------------------------------------------------
BRACKET = re.compile(r"^(\w+)((?:\[[^\]]*\])*)$")


def parse_query(params: Mapping[str, str]) -> dict[str, Any]:
    """Bracket params and one JSON ``query=`` merged into one dict (``query`` wins on a clash)."""
    merged: dict[str, Any] = {}
    for name, value in params.items():
        match = BRACKET.match(name)
        if name == "query" or not match:
            continue
        keys = [match.group(1), *re.findall(r"\[([^\]]*)\]", match.group(2))]
        _set(merged, keys, _scalar(value))
    for key in ("order", "include", "attributes"):
        if isinstance(merged.get(key), dict):
            merged[key] = [_listify(v) for _, v in sorted(merged[key].items(), key=lambda kv: int(kv[0] or 0))]
    if "query" in params:
        parsed = json.loads(params["query"])
        if isinstance(parsed, dict):
            merged.update(parsed)
    return merged


def _listify(value: Any) -> Any:
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        return [v for _, v in sorted(value.items(), key=lambda kv: int(kv[0]))]
    return value


def _set(target: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key or str(len(target)), {})
    target[keys[-1] or str(len(target))] = value


def _scalar(value: str) -> Any:
    return {"true": True, "false": False, "null": None}.get(value, value)


def _sort_key(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda row: str(lookup(row, key) or "")


def lookup(row: Mapping[str, Any], key: str) -> Any:
    """A column, or a JSON path into it (``data.number``)."""
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$in": lambda a, b: a in (b or []),
    "$gt": lambda a, b: a is not None and str(a) > str(b),
    "$gte": lambda a, b: a is not None and str(a) >= str(b),
    "$lt": lambda a, b: a is not None and str(a) < str(b),
    "$lte": lambda a, b: a is not None and str(a) <= str(b),
    "$iLike": lambda a, b: (
        a is not None
        and re.fullmatch(re.escape(str(b)).replace("%", ".*").replace("_", "."), str(a), re.IGNORECASE | re.DOTALL)
        is not None
    ),
}


def matches(row: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    """Sequelize-like ``where``: columns equal, operators, ``$and`` / ``$or``; unknown operators ignored."""
    for key, condition in where.items():
        if key == "$and" and not all(matches(row, part) for part in condition):
            return False
        if key == "$or" and not any(matches(row, part) for part in condition):
            return False
        if key.startswith("$"):
            continue
        value = lookup(row, key)
        if isinstance(condition, dict):
            if not all(OPERATORS[op](value, arg) for op, arg in condition.items() if op in OPERATORS):
                return False
        elif value != condition:
            return False
    return True


def _attributes(row: Mapping[str, Any], attributes: Any) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in attributes} if isinstance(attributes, list) else dict(row)


class DigisacSandbox:
    """The API on a loopback port; ``base_url`` is the ``/api/v1`` root a connector is given."""

    def __init__(self, state: DigisacState) -> None:
        self.state = state
        self._server = state.server()

    @property
    def base_url(self) -> str:
        return f"{self._server.base_url}{API}"

    @property
    def token(self) -> str:
        return self.state.token

    def start(self) -> DigisacSandbox:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
