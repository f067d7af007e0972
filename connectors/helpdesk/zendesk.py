"""Zendesk Support: tickets through the REST API with an API token.

Shapes from Zendesk's developer documentation:

* Auth — HTTP Basic with ``{email}/token`` and the API token.
* Sync — the cursor-based incremental export ``GET /api/v2/incremental/tickets/cursor.json``:
  ``start_time`` the first time, then ``cursor`` (``after_cursor``) until ``end_of_stream``
  (10 requests a minute; 429 with ``Retry-After``). ``include=users,organizations,metric_sets``
  sideloads the owner, the client (the organization) and the metric set whose
  ``assignee_updated_at`` is the owner's last update: that is ``updated_at`` here, because
  hygiene's own notes are made by its API user and never move it. Without a metric set,
  the ticket's ``updated_at`` is used unless it is the moment of hygiene's own last note.
* Status — new, open → open; pending, hold → pending; solved; closed (overridable).
* Create — ``POST /api/v2/tickets.json`` with ``external_id`` set to the key and an
  ``Idempotency-Key`` header; before creating, ``GET /api/v2/tickets.json?external_id=`` finds
  a ticket made by an earlier, interrupted try.
* Notes — ``PUT /api/v2/tickets/{id}.json`` with ``comment: {body, public: false}``.
* Links — ``https://{subdomain}.zendesk.com/agent/tickets/{id}``.
"""

from __future__ import annotations

import re
import time as time_module
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from pydantic import Field, ValidationError, field_validator, model_validator

from connectors.http import HttpClient, HttpSettings, NotFound
from hygiene.errors import OutcomeUnknown, PermanentError, TransientError
from hygiene.kinds import HelpdeskBuild, HelpdeskKind
from hygiene.logs import register_secrets
from hygiene.models import Status, Ticket
from hygiene.ports import ClientRecord, Helpdesk, SyncBatch, TicketDraft
from hygiene.refs import url_pattern
from hygiene.settings import HelpdeskSettings, env_name, http_url, secret_from_env

STATUS = {
    "new": "open",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "solved",
    "closed": "closed",
}
PRIORITY = {"urgent": "urgent", "high": "high", "normal": "normal", "low": "low"}


class ZendeskHelpdesk(Helpdesk):
    name = "zendesk"
    display_name = "Zendesk"
    supports_notes = True

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time_module.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        status_map: dict[str, str] | None = None,
        backfill_days: int = 30,
        retries: int = 3,
        timeout: float = 15,
        max_retry_after: float = 60,
        agent_url: str | None = None,
        sleep_cap: float = 60,
    ) -> None:
        session = requests.Session()
        session.auth = (f"{email}/token", token)
        self.http = HttpClient(
            "zendesk", base_url, sleep=sleep, retries=retries, timeout=timeout,
            max_retry_after=max_retry_after, session=session, sleep_cap=sleep_cap,
        )  # fmt: skip
        self.now = now
        self.status_map = STATUS | (status_map or {})
        self.backfill = timedelta(days=backfill_days)
        self.agent_url = agent_url or base_url.rstrip("/") + "/agent/tickets/{id}"
        self._organizations: dict[int, str] | None = None
        self.noted: dict[str, str] = {}
        """ticket id → its updated_at right after hygiene's own note (not an update by a person)."""

    # reading ----------------------------------------------------------------------------------
    def sync(self, state: dict[str, Any]) -> SyncBatch:
        """Tickets changed since the saved cursor (or ``backfill_days`` the first time)."""
        before = self.http.calls
        params: dict[str, Any] = {"include": "users,organizations,metric_sets"}
        if state.get("cursor"):
            params["cursor"] = state["cursor"]
        else:
            params["start_time"] = int((self.now() - self.backfill).timestamp())
        own_notes: dict[str, str] = dict(state.get("own_notes", {})) | self.noted
        tickets: list[Ticket] = []
        cursor = state.get("cursor")
        while True:
            body = self.http.request("GET", "/api/v2/incremental/tickets/cursor.json", params=params)
            if not isinstance(body, dict) or not isinstance(body.get("tickets"), list):
                raise TransientError("zendesk", "incremental export: expected a 'tickets' list (malformed body)")
            tickets.extend(self._page(body, own_notes))
            after = body.get("after_cursor") if isinstance(body.get("after_cursor"), str) else None
            stuck = after is not None and after == params.get("cursor")  # the same cursor again: no progress
            cursor = after or cursor
            if body.get("end_of_stream", True) or not after or stuck:
                break
            params = {"include": params["include"], "cursor": after}
        return SyncBatch(tickets, {"cursor": cursor, "own_notes": own_notes}, calls=self.http.calls - before)

    def _page(self, body: dict[str, Any], own_notes: dict[str, str]) -> list[Ticket]:
        users = _by_id(body.get("users"))
        organizations = {key: o.get("name") for key, o in _by_id(body.get("organizations")).items()}
        metrics = _by_id(body.get("metric_sets"), "ticket_id")
        return [
            self._ticket(raw, users, organizations, metrics.get(_key(raw.get("id"))), own_notes)
            for raw in body["tickets"]
            if isinstance(raw, dict) and raw.get("status") != "deleted"
        ]

    def _ticket(
        self,
        raw: dict[str, Any],
        users: dict[Any, dict[str, Any]],
        organizations: dict[Any, Any],
        metric: dict[str, Any] | None,
        own_notes: dict[str, str],
    ) -> Ticket:
        if not _key(raw.get("id")):
            raise PermanentError("zendesk", "malformed ticket: expected an object with an 'id'")
        status = str(raw.get("status"))
        if status not in self.status_map:
            raise PermanentError("zendesk", f"ticket {raw.get('id')}: unknown status {status!r}")
        owner = users.get(_key(raw.get("assignee_id"))) or {}
        updated = (metric or {}).get("assignee_updated_at")
        if not updated:
            updated = raw.get("updated_at")
            if updated and own_notes.get(str(raw.get("id"))) == updated:
                updated = (metric or {}).get("latest_comment_added_at") or raw.get("created_at")
        organization_id = _key(raw.get("organization_id"))
        organization = organizations.get(organization_id) or self._organization(organization_id)
        try:
            return self._as_ticket(raw, status, owner, organization, updated)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            raise PermanentError("zendesk", f"ticket {raw['id']}: malformed {field}: {error['msg']}") from None

    def _as_ticket(
        self, raw: dict[str, Any], status: str, owner: dict[str, Any], organization: Any, updated: Any
    ) -> Ticket:
        return Ticket(
            id=str(raw["id"]),
            subject=str(raw.get("subject") or raw.get("raw_subject") or ""),
            client=organization,
            status=self.status_map[status],
            raw_status=status,
            assignee=owner.get("name"),
            assignee_email=owner.get("email"),
            priority=PRIORITY.get(str(raw.get("priority")), "normal"),
            category=raw.get("type"),
            created_at=raw.get("created_at"),
            updated_at=updated,
            due_at=raw.get("due_at"),
            url=self.agent_url.replace("{id}", str(raw["id"])),
        )

    def _organization(self, organization_id: Any) -> str | None:
        if organization_id is None:
            return None
        return self._organization_names().get(organization_id)

    def _organization_names(self) -> dict[int, str]:
        if self._organizations is None:
            names: dict[int, str] = {}
            path: str | None = "/api/v2/organizations.json"
            params: dict[str, Any] = {"page[size]": 100}
            while path:
                body = self.http.request("GET", path, params=params)
                body = body if isinstance(body, dict) else {}
                for key, org in _by_id(body.get("organizations")).items():
                    names[key] = str(org.get("name") or "")
                meta = _dict(body.get("meta"))
                after = meta.get("after_cursor")
                moved = after != params.get("page[after]")
                more = meta.get("has_more") and _dict(body.get("links")).get("next") and moved
                path = "/api/v2/organizations.json" if more else None
                params = {"page[size]": 100, "page[after]": after}
            self._organizations = names
        return self._organizations

    def get_ticket(self, key: str) -> Ticket | None:
        try:
            body = self.http.request("GET", f"/api/v2/tickets/{key}.json", params={"include": "users,metric_sets"})
        except NotFound:
            return None
        raw = _dict(body).get("ticket")
        if not isinstance(raw, dict):
            raise TransientError("zendesk", f"GET /api/v2/tickets/{key}.json: expected a ticket (malformed body)")
        metric = _dict(body).get("metric_set")
        return self._ticket(raw, _by_id(_dict(body).get("users")), {}, metric if isinstance(metric, dict) else None, {})

    def clients(self) -> list[str]:
        return sorted({name for name in self._organization_names().values() if name})

    # writing ----------------------------------------------------------------------------------
    def client_directory(self) -> list[ClientRecord]:
        """Every organization (id and name), read once per instance (one cycle)."""
        return [ClientRecord(id=str(oid), name=name) for oid, name in self._organization_names().items() if name]

    def find_created(self, key: str) -> Ticket | None:
        """The ticket an earlier try with ``key`` created (``external_id``)."""
        found = self.http.request("GET", "/api/v2/tickets.json", params={"external_id": key})
        existing = (found or {}).get("tickets") if isinstance(found, dict) else None
        if not isinstance(existing, list):
            raise TransientError("zendesk", "GET /api/v2/tickets.json: expected a 'tickets' list (malformed body)")
        raw = next((t for t in existing if isinstance(t, dict)), None)
        return self._ticket(raw, {}, {}, None, {}) if raw else None

    def create_ticket(self, draft: TicketDraft, key: str) -> Ticket:
        """Create once: looked for by ``external_id`` first, sent with an ``Idempotency-Key``.
        A ticket without a known organization is created without one (Zendesk allows it)."""
        existing = self.find_created(key)
        if existing is not None:
            return existing
        ticket: dict[str, Any] = {
            "subject": draft.subject[:250],
            "comment": {"body": draft.description, "public": False},
            "external_id": key,
        }
        organization_id = self._organization_id(draft)
        if organization_id is not None:
            ticket["organization_id"] = organization_id
        body = self.http.request(
            "POST", "/api/v2/tickets.json", json={"ticket": ticket}, headers={"Idempotency-Key": key}
        )
        raw = (body or {}).get("ticket") if isinstance(body, dict) else None
        if not isinstance(raw, dict):
            raise OutcomeUnknown("zendesk", "POST /api/v2/tickets.json answered without a ticket")
        return self._ticket(raw, {}, {}, None, {})

    def _organization_id(self, draft: TicketDraft) -> int | None:
        if draft.client_id and draft.client_id.isdigit():
            return int(draft.client_id)
        return next((oid for oid, name in self._organization_names().items() if name == draft.client), None)

    def add_note(self, ticket_id: str, text: str) -> None:
        body = self.http.request(
            "PUT", f"/api/v2/tickets/{ticket_id}.json", json={"ticket": {"comment": {"body": text, "public": False}}}
        )
        updated = ((body or {}).get("ticket") or {}).get("updated_at")
        if updated:
            self.noted[ticket_id] = updated

    def ticket_url(self, ticket: Ticket) -> str | None:
        return ticket.url or self.agent_url.replace("{id}", ticket.id)

    def url_patterns(self) -> list[re.Pattern[str]]:
        return [url_pattern(self.agent_url)]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _key(value: Any) -> int | str | None:
    """An id as Zendesk sends it (a number, sometimes a string); anything else is no id."""
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _by_id(items: Any, key: str = "id") -> dict[Any, dict[str, Any]]:
    """The objects of a sideloaded list by their id; anything malformed in it is left out."""
    if not isinstance(items, list):
        return {}
    return {_key(item.get(key)): item for item in items if isinstance(item, dict) and _key(item.get(key)) is not None}


class Settings(HelpdeskSettings, HttpSettings):
    """``[helpdesk]`` with ``kind = "zendesk"``. The API token comes from the environment (``token_env``)."""

    subdomain: str | None = Field(None, description="zendesk: the account, as in https://SUBDOMAIN.zendesk.com.")
    base_url: str | None = Field(None, description="API base URL (zendesk: instead of subdomain).")
    email: str | None = Field(None, description="zendesk: the API user's e-mail (API token auth).")
    token_env: str = "ZENDESK_API_TOKEN"
    status_map: dict[str, Status] = Field(
        default_factory=dict, description="Raw helpdesk status → open | pending | solved | closed (overrides)."
    )
    url_template: str | None = Field(None, description="A ticket's URL with {id}, e.g. https://…/tickets/{id}")

    _urls = field_validator("base_url", "url_template")(http_url)
    _env = field_validator("token_env")(env_name)

    @model_validator(mode="after")
    def _account(self) -> Settings:
        if not (self.subdomain or self.base_url):
            raise ValueError("helpdesk kind 'zendesk' needs a subdomain (or base_url)")
        if not self.email:
            raise ValueError("helpdesk kind 'zendesk' needs the API user's email")
        return self

    def ticket_url_template(self) -> str | None:
        return self.url_template


def build(settings: Settings, built: HelpdeskBuild) -> ZendeskHelpdesk:
    """Zendesk from validated settings; the API token is read from the environment and masked in logs."""
    token = secret_from_env(settings.token_env, "helpdesk.token_env")
    register_secrets([token])
    clock = built.clock
    return ZendeskHelpdesk(
        settings.base_url or f"https://{settings.subdomain}.zendesk.com",
        settings.email or "",
        token,
        sleep=clock.sleep if clock else time_module.sleep,
        now=clock.now if clock else (lambda: datetime.now(UTC)),
        status_map=dict(settings.status_map),
        retries=settings.retries,
        timeout=settings.timeout_seconds,
        max_retry_after=settings.max_retry_after_seconds,
        agent_url=settings.url_template,
        sleep_cap=settings.max_sleep_per_cycle_seconds,
    )


KIND = HelpdeskKind(name="zendesk", settings=Settings, build=build)
