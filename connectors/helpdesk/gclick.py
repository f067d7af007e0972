"""G Click (Omie.G-Click) helpdesk: tasks ("tarefas") as tickets.

No public API reference was found; every shape here comes from public client code, noted by
where it was seen (searched 2026-11-22):

* Auth — ``POST /oauth/token`` with ``grant_type=client_credentials``, ``client_id`` and
  ``client_secret`` form-encoded; the answer has ``access_token``, ``token_type: bearer`` and
  ``expires_in`` (~24 h) and no refresh token, so renewing is asking again. A 401 on a call
  renews once (a TypeScript client written against the official Postman collection, its
  ``http.provider.ts`` and tests).
* Tasks — ``GET /tarefas?categoria=…&dataAcaoInicio=YYYY-MM-DD&page=&size=`` answers a Spring
  page (``content``, ``number``, ``size``, ``totalElements``; ``last``/``totalPages`` in other
  clients). ``categoria`` and ``dataAcaoInicio`` are required in practice: without them the API
  answers HTTP 500 (same client, a comment dated 2026-09-24). Filters ``departamentosIds`` and
  ``responsaveisIds`` come from the design notes (DESIGN.md). A task has ``id`` (``"4.12345"``),
  ``nome``, ``status``, ``clienteApelido``, ``dataAcao``, ``dataVencimento``, ``dataConclusao``
  and ``departamento.nome`` (a Deno client's ``GClickTask`` interface).
* Status — one letter: A aberto/autorizada, S aguardando, C concluído, D dispensado,
  F finalizado, E retificando, O retificado, P/Q solicitado (by e-mail / by the client), X
  cancelado (several Python clients' ``STATUS_LABELS``); they count A, P, Q, S as open. Here:
  A, E, P, Q → open; S → pending; C, O → solved; D, F, X → closed. ``[helpdesk] status_map``
  overrides any of it.
* Owners — ``GET /tarefas/{id}/responsaveis``: a plain array of ``{id, nome, apelido, email}``;
  activities — ``GET /tarefas/{id}/atividades``: ``{id, nome, respondida, respondidaPor,
  respondidaEm}`` (the TypeScript client's lookup mapper).
* ``updated_at`` — the API has no "updated" field and no updated-since filter. The best a person's
  last touch the API shows is the latest ``respondidaEm`` of the task's activities; without one,
  ``dataConclusao``, then ``dataAcao``. So the connector sweeps the task list each cycle, diffs it
  against a digest per task kept in its state, and reads owners and activities only for tasks
  that changed (``detail_calls_per_cycle`` bounds those calls; the rest wait for the next cycle).
* Clients — ``GET /clientes?page=&size=`` (Spring page, ``nome``/``apelido``) and
  ``GET /clientes/search?texto=`` (textual search).
* Creating — ``POST /v2/tarefas/preTarefas`` with ``departamentoId``, ``assunto``, ``andamento``,
  ``clienteId`` (and ``responsavelId``); the answer is ``{id, assunto, status}`` (TypeScript
  client test). Public notes say it creates a *pre-task* a person confirms; here it is followed
  as status P until it is confirmed (any other status). The API has no idempotency key, so the
  subject carries a short marker ``[hy:xxxxxxxx]`` of the key, and a create first looks for a
  task with that marker.
* Notes — replying to a task's activities is partner-only (the TypeScript client keeps
  ``canReplyActivity: false``), so internal notes are not available: :meth:`add_note` says so.
* Links — ``https://app.gclick.com.br/tarefas/{id}`` (several clients' Teams cards).
"""

from __future__ import annotations

import hashlib
import json
import re
import time as time_module
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator

from connectors.http import HttpClient, HttpSettings
from hygiene.errors import AuthError, ExternalError, NotFound, OutcomeUnknown, PermanentError, TransientError
from hygiene.kinds import HelpdeskBuild, HelpdeskKind
from hygiene.logs import register_secrets
from hygiene.models import Status, Ticket
from hygiene.ports import ClientRecord, Helpdesk, SyncBatch, TicketDraft
from hygiene.refs import url_pattern
from hygiene.settings import HelpdeskSettings, env_name, http_url, secret_from_env
from hygiene.text import fold

STATUS = {
    "A": "open", "E": "open", "P": "open", "Q": "open", "S": "pending",
    "C": "solved", "O": "solved", "D": "closed", "F": "closed", "X": "closed",
}  # fmt: skip
APP_URL = "https://app.gclick.com.br/tarefas/{id}"
MARKER = re.compile(r"\s*\[hy:[0-9a-f]{8}\]")


class GClickHelpdesk(Helpdesk):
    name = "gclick"
    display_name = "G Click"
    supports_notes = False
    requires_client = True

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        sleep: Callable[[float], None] = time_module.sleep,
        today: Callable[[], date] = date.today,
        category: str = "Solicitacao",
        department_ids: list[int] | None = None,
        owner_ids: list[int] | None = None,
        create_department_id: int | None = None,
        status_map: dict[str, str] | None = None,
        page_size: int = 50,
        window_months: int = 12,
        detail_calls_per_cycle: int = 100,
        retries: int = 3,
        timeout: float = 15,
        max_retry_after: float = 30,
        url_template: str = APP_URL,
        sleep_cap: float = 60,
    ) -> None:
        self.http = HttpClient(
            "gclick", base_url, sleep=sleep, retries=retries, timeout=timeout, max_retry_after=max_retry_after,
            sleep_cap=sleep_cap,
        )  # fmt: skip
        self.http.auth_headers = self._bearer
        self.http.on_unauthorized = self._renew
        self._credentials = (client_id, client_secret)
        self._token: tuple[str, float] | None = None
        self.today = today
        self.category = category
        self.department_ids = department_ids or []
        self.owner_ids = owner_ids or []
        self.create_department_id = create_department_id
        self.status_map = STATUS | (status_map or {})
        self.page_size = page_size
        self.window_months = window_months
        self.detail_budget = detail_calls_per_cycle
        self.url_template = url_template
        self._clients: list[dict[str, Any]] | None = None

    # auth -------------------------------------------------------------------------------------
    def _bearer(self) -> dict[str, str]:
        if self._token is None or self._token[1] <= time_module.monotonic():
            self._renew()
        assert self._token is not None
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _renew(self) -> bool:
        client_id, client_secret = self._credentials
        auth, self.http.auth_headers = self.http.auth_headers, dict
        renew, self.http.on_unauthorized = self.http.on_unauthorized, lambda: False
        try:
            body = self.http.request(
                "POST",
                "/oauth/token",
                idempotent=True,
                data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            )
        except ExternalError as exc:
            if isinstance(exc, (AuthError, PermanentError)):
                raise AuthError("gclick", "the client id or secret was refused (POST /oauth/token)") from None
            raise
        finally:
            self.http.auth_headers, self.http.on_unauthorized = auth, renew
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError("gclick", "POST /oauth/token answered without an access_token")
        lifetime = float(body.get("expires_in") or 0)
        self._token = (token, time_module.monotonic() + max(lifetime - 60, 0))
        return True

    # reading ----------------------------------------------------------------------------------
    def _window_start(self) -> str:
        return (self.today() - timedelta(days=31 * self.window_months)).replace(day=1).isoformat()

    def _task_pages(self, since: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"categoria": self.category, "dataAcaoInicio": since or self._window_start()}
        if self.department_ids:
            params["departamentosIds"] = ",".join(map(str, self.department_ids))
        if self.owner_ids:
            params["responsaveisIds"] = ",".join(map(str, self.owner_ids))
        return self._pages("/tarefas", params, self.page_size)

    def _pages(self, path: str, params: dict[str, Any], size: int) -> list[dict[str, Any]]:
        """Every item of a Spring-paged list (``content``; ``last``/``totalPages`` end it)."""
        items: list[dict[str, Any]] = []
        page = 0
        previous: list[dict[str, Any]] | None = None
        while True:
            body = self.http.request("GET", path, params=params | {"page": page, "size": size})
            content = _content(body, f"GET {path}")
            if not content or content == previous:  # an empty page, or the server ignoring `page`
                return items
            items.extend(content)
            if not isinstance(body, dict) or body.get("last", True) or page + 1 >= _total_pages(body):
                return items
            previous, page = content, page + 1

    def sync(self, state: dict[str, Any]) -> SyncBatch:
        """The task list swept and diffed; owners and activities read for tasks that changed."""
        before = self.http.calls
        known: dict[str, dict[str, Any]] = state.get("tasks", {})
        fresh: dict[str, dict[str, Any]] = {}
        changed: list[Ticket] = []
        complete = True
        budget = self.detail_budget
        for raw in self._task_pages():
            task_id = str(raw.get("id"))
            digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:16]
            entry = known.get(task_id)
            if entry and entry["digest"] == digest:
                fresh[task_id] = entry
                continue
            if budget < 2:
                complete = False  # read next cycle; its digest is not saved, so it stays "changed"
                continue
            budget -= 2
            ticket = self._ticket(raw)
            fresh[task_id] = {"digest": digest}
            changed.append(ticket)
        return SyncBatch(changed, {"tasks": fresh}, complete=complete, calls=self.http.calls - before)

    def _ticket(self, raw: dict[str, Any]) -> Ticket:
        task_id = str(raw.get("id"))
        owners = self._list(f"/tarefas/{task_id}/responsaveis")
        activities = self._list(f"/tarefas/{task_id}/atividades")
        return to_ticket(raw, owners, activities, self.status_map, self.url_template)

    def _list(self, path: str) -> list[dict[str, Any]]:
        try:
            body = self.http.request("GET", path)
        except NotFound:
            return []
        items = body if isinstance(body, list) else body.get("content") if isinstance(body, dict) else None
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def get_ticket(self, key: str) -> Ticket | None:
        try:
            raw = self.http.request("GET", f"/tarefas/{key}")
        except NotFound:
            return None
        if not isinstance(raw, dict):
            raise TransientError("gclick", f"GET /tarefas/{key}: expected a task object (malformed body)")
        return self._ticket(raw)

    def clients(self) -> list[str]:
        return sorted(
            {str(c.get("nome") or c.get("apelido")) for c in self._client_list() if c.get("nome") or c.get("apelido")}
        )

    def client_directory(self) -> list[ClientRecord]:
        """Every client (``GET /clientes``): id, ``nome`` and ``apelido`` as an alias. Read once per
        instance (one cycle); a failed read is transient, never an empty directory."""
        records = []
        for raw in self._client_list():
            name = str(raw.get("nome") or raw.get("apelido") or "").strip()
            if not name or raw.get("id") is None:
                continue
            alias = str(raw.get("apelido") or "").strip()
            records.append(
                ClientRecord(id=str(raw["id"]), name=name, aliases=(alias,) if alias and alias != name else ())
            )
        return records

    def _client_list(self) -> list[dict[str, Any]]:
        if self._clients is None:
            self._clients = self._pages("/clientes", {}, 200)
        return self._clients

    def _client_id(self, name: str | None) -> Any:
        if not name:
            return None
        wanted = fold(name)
        for client in self._client_list():
            if wanted in (fold(str(client.get("nome") or "")), fold(str(client.get("apelido") or ""))):
                return client.get("id")
        return None

    # writing ----------------------------------------------------------------------------------
    def find_created(self, key: str) -> Ticket | None:
        """The task an earlier try with ``key`` created, found by its ``[hy:…]`` marker."""
        marker = _marker(key)
        since = (self.today() - timedelta(days=7)).isoformat()
        for raw in self._task_pages(since):
            if marker in str(raw.get("nome", "")):
                return self._ticket(raw)
        return None

    def create_ticket(self, draft: TicketDraft, key: str) -> Ticket:
        """A pre-task (status P until a person confirms it); the same key never creates twice.

        The POST is sent once: if its answer is lost the outbox looks for the marker before
        ever sending it again (``find_created``)."""
        found = self.find_created(key)
        if found is not None:
            return found
        if self.create_department_id is None:
            raise PermanentError("gclick", "creating needs [helpdesk] create_department_id")
        client_id = _api_id(draft.client_id) if draft.client_id else self._client_id(draft.client)
        if client_id is None:
            raise NotFound("gclick", f"no G Click client named {draft.client!r} to open the task for")
        body = self.http.request(
            "POST",
            "/v2/tarefas/preTarefas",
            json={
                "departamentoId": self.create_department_id,
                "assunto": f"{draft.subject[:180]} {_marker(key)}",
                "andamento": draft.description,
                "clienteId": client_id,
            },
        )
        if not isinstance(body, dict) or not body.get("id"):
            raise OutcomeUnknown("gclick", "POST /v2/tarefas/preTarefas answered without an id")
        return Ticket(
            id=str(body["id"]),
            subject=MARKER.sub("", str(body.get("assunto") or draft.subject)).strip(),
            client=draft.client,
            status=self.status_map.get(str(body.get("status", "P")), "open"),
            raw_status=str(body.get("status", "P")),
            url=self.url_template.replace("{id}", str(body["id"])),
        )

    def add_note(self, ticket_id: str, text: str) -> None:
        raise PermanentError(
            "gclick",
            "internal notes are not in G Click's public API (activity replies are partner-only); "
            "the note stays in the Slack thread",
        )

    def ticket_url(self, ticket: Ticket) -> str | None:
        return ticket.url or self.url_template.replace("{id}", ticket.id)

    def url_patterns(self) -> list[re.Pattern[str]]:
        return [url_pattern(self.url_template)]


def _api_id(value: str) -> int | str:
    """G Click's ids are numbers; the directory keeps them as text."""
    return int(value) if value.isdigit() else value


def _marker(key: str) -> str:
    return f"[hy:{hashlib.sha256(key.encode()).hexdigest()[:8]}]"


def to_ticket(
    raw: dict[str, Any],
    owners: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    status_map: dict[str, str],
    url_template: str = APP_URL,
) -> Ticket:
    """A task as a Ticket; a task hygiene cannot read is an ExternalError naming it and the field."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str | int) or isinstance(raw.get("id"), bool):
        raise ExternalError("gclick", "malformed task: expected an object with an 'id'")
    try:
        return _to_ticket(raw, _objects(owners), _objects(activities), status_map, url_template)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise ExternalError("gclick", f"task {raw['id']}: malformed {field}: {error['msg']}") from None


def _to_ticket(
    raw: dict[str, Any],
    owners: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    status_map: dict[str, str],
    url_template: str,
) -> Ticket:
    raw_status = str(raw.get("status") or "")
    if raw_status not in status_map:
        raise ExternalError(
            "gclick", f"task {raw.get('id')}: unknown status {raw_status!r} (add it to [helpdesk] status_map)"
        )
    answered = sorted(str(a["respondidaEm"]) for a in activities if a.get("respondidaEm"))
    updated = answered[-1] if answered else (raw.get("dataConclusao") or raw.get("dataAcao"))
    owner = owners[0] if owners else {}
    department = _dict(raw.get("departamento")).get("nome") or _dict(
        _dict(raw.get("obrigacao")).get("departamento")
    ).get("nome")
    due = raw.get("dataVencimento")
    return Ticket(
        id=str(raw["id"]),
        subject=MARKER.sub("", str(raw.get("nome") or raw.get("assunto") or "")).strip(),
        client=raw.get("clienteApelido") or _dict(raw.get("cliente")).get("nome"),
        status=status_map[raw_status],
        raw_status=raw_status,
        assignee=owner.get("nome") or owner.get("apelido"),
        assignee_email=owner.get("email"),
        category=raw.get("categoria"),
        department=department,
        created_at=raw.get("dataAcao"),
        updated_at=updated,
        due_at=f"{due[:10]}T18:00:00" if isinstance(due, str) and len(due) >= 10 else None,
        url=url_template.replace("{id}", str(raw["id"])),
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _total_pages(body: dict[str, Any]) -> int:
    total = body.get("totalPages", 1)
    return total if isinstance(total, int) else 1


def _content(body: Any, where: str) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else (body.get("content") if isinstance(body, dict) else None)
    if not isinstance(items, list):
        raise TransientError("gclick", f"{where}: expected a page with 'content' (malformed body)")
    return [item for item in items if isinstance(item, dict)]


class Settings(HelpdeskSettings, HttpSettings):
    """``[helpdesk]`` with ``kind = "gclick"``. The client id and secret come from the environment (``*_env``)."""

    base_url: str | None = Field(None, description="API base URL (gclick: https://api.gclick.com.br).")
    client_id_env: str = "GCLICK_CLIENT_ID"
    client_secret_env: str = "GCLICK_CLIENT_SECRET"
    category: str = Field("Solicitacao", description="gclick: the task category to follow.")
    department_ids: list[int] = Field(default_factory=list, description="gclick: only these departments.")
    owner_ids: list[int] = Field(default_factory=list, description="gclick: only tasks of these owners.")
    create_department_id: int | None = Field(None, description="gclick: departamentoId of pre-tasks hygiene creates.")
    window_months: int = Field(12, ge=1, le=60, description="gclick: follow tasks whose action date is this recent.")
    page_size: int = Field(50, ge=1, le=200)
    detail_calls_per_cycle: int = Field(100, ge=2, description="gclick: calls to read owners and activities.")
    status_map: dict[str, Status] = Field(
        default_factory=dict, description="Raw helpdesk status → open | pending | solved | closed (overrides)."
    )
    url_template: str | None = Field(None, description="A ticket's URL with {id}, e.g. https://…/tickets/{id}")

    _urls = field_validator("base_url", "url_template")(http_url)
    _env = field_validator("client_id_env", "client_secret_env")(env_name)

    def ticket_url_template(self) -> str | None:
        return self.url_template


def build(settings: Settings, built: HelpdeskBuild) -> GClickHelpdesk:
    """G Click from validated settings; the credentials are read from the environment and masked in logs."""
    client_id = secret_from_env(settings.client_id_env, "helpdesk.client_id_env")
    secret = secret_from_env(settings.client_secret_env, "helpdesk.client_secret_env")
    register_secrets([client_id, secret])
    clock, zone = built.clock, ZoneInfo(built.zone_name)
    return GClickHelpdesk(
        settings.base_url or "https://api.gclick.com.br",
        client_id,
        secret,
        sleep=clock.sleep if clock else time_module.sleep,
        today=(lambda: clock.now().astimezone(zone).date()) if clock else date.today,
        category=settings.category,
        department_ids=settings.department_ids,
        owner_ids=settings.owner_ids,
        create_department_id=settings.create_department_id,
        status_map=dict(settings.status_map),
        page_size=settings.page_size,
        window_months=settings.window_months,
        detail_calls_per_cycle=settings.detail_calls_per_cycle,
        retries=settings.retries,
        timeout=settings.timeout_seconds,
        max_retry_after=settings.max_retry_after_seconds,
        url_template=settings.url_template or APP_URL,
        sleep_cap=settings.max_sleep_per_cycle_seconds,
    )


KIND = HelpdeskKind(name="gclick", settings=Settings, build=build)
