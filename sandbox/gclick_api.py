"""A G Click API subset on loopback, with the shapes the public client code shows.

``POST /oauth/token`` (client credentials, form-encoded; ``access_token``, ``expires_in``),
``GET /tarefas`` (``categoria``, ``dataAcaoInicio``, ``page``, ``size``; a Spring page:
``content``, ``number``, ``size``, ``totalElements``, ``totalPages``, ``last``),
``GET /tarefas/{id}``, ``GET /tarefas/{id}/responsaveis`` and ``/atividades`` (plain arrays),
``GET /clientes`` (a Spring page), ``GET /clientes/search?texto=``, and
``POST /v2/tarefas/preTarefas`` (``departamentoId``, ``assunto``, ``andamento``, ``clienteId``,
``responsavelId``), which creates a task in status ``P`` (requested) that a person confirms
(``confirm``) before it becomes ``A``. Every request is recorded.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hygiene.clock import Clock, SystemClock
from sandbox.environment import variables
from sandbox.http_server import FaultBook, JsonApiServer, Reply, Request


@dataclass
class GClickState:
    clock: Clock = field(default_factory=SystemClock)
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret-not-real"
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: list[dict[str, Any]] = field(default_factory=list)
    owners: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    activities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    faults: FaultBook = field(default_factory=FaultBook)
    received: list[tuple[str, str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9000))

    # seeding ----------------------------------------------------------------------------------
    @classmethod
    def from_tickets(cls, tickets: list[dict[str, Any]], clock: Clock | None = None) -> GClickState:
        """A G Click holding the tickets of a scenario (the normalized model of CONTRACTS.md)."""
        state = cls(clock=clock or SystemClock())
        codes = {"open": "A", "pending": "S", "solved": "C", "closed": "F"}
        for index, name in enumerate(sorted({t["client"] for t in tickets if t.get("client")})):
            state.add_client(1000 + index, name)
        for number, ticket in enumerate(tickets):
            owner = (
                {"id": 100 + number, "nome": ticket["assignee"], "email": ticket.get("assignee_email")}
                if ticket.get("assignee")
                else None
            )
            state.add_task(
                str(ticket["id"]),
                ticket["subject"],
                ticket.get("client") or "",
                codes[ticket["status"]],
                department=ticket.get("department") or "Geral",
                owner=owner,
                action=(ticket.get("created_at") or "2026-11-01")[:10],
                due=ticket.get("due_at"),
                answered_at=ticket.get("updated_at"),
            )
        return state

    def add_client(self, client_id: int, name: str, apelido: str | None = None) -> None:
        self.clients.append({"id": client_id, "nome": name, "apelido": apelido or name, "status": "ATIVO"})

    def add_task(
        self,
        task_id: str,
        name: str,
        client: str,
        status: str = "A",
        *,
        department: str = "Fiscal",
        owner: dict[str, Any] | None = None,
        action: str = "2026-11-10",
        due: str | None = None,
        answered_at: str | None = None,
        category: str = "Solicitacao",
    ) -> None:
        with self.lock:
            self.tasks[task_id] = {
                "id": task_id,
                "nome": name,
                "status": status,
                "categoria": category,
                "clienteApelido": client,
                "clienteInscricao": "",
                "dataAcao": action,
                "dataVencimento": due,
                "dataConclusao": None,
                "departamento": {"nome": department},
            }
            self.owners[task_id] = [owner] if owner else []
            self.activities[task_id] = (
                [{"id": 1, "nome": "Andamento", "respondida": True, "respondidaEm": answered_at}] if answered_at else []
            )

    def set_status(self, task_id: str, status: str, at: datetime | None = None) -> None:
        with self.lock:
            task = self.tasks[task_id]
            task["status"] = status
            moment = (at or self.clock.now()).strftime("%Y-%m-%dT%H:%M:%S")
            if status in ("C", "F", "D", "O"):
                task["dataConclusao"] = moment[:10]
            self.activities.setdefault(task_id, []).append(
                {
                    "id": len(self.activities[task_id]) + 1,
                    "nome": f"Status {status}",
                    "respondida": True,
                    "respondidaEm": moment,
                }
            )

    def confirm(self, task_id: str) -> None:
        """A person confirms a pre-task: it becomes a task (status A)."""
        self.set_status(task_id, "A")

    def created(self) -> list[dict[str, Any]]:
        return [body for route, _, body in self.received if route == "preTarefas"]

    # routes -----------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header.removeprefix("Bearer ") in self.tokens

    def token(self, request: Request) -> Reply:
        body = request.body or {}
        if body.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Bad credentials"}, {}
        token = f"tok-{next(self._ids)}"
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": 86399}, {}

    def list_tasks(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        query = request.query
        if "categoria" not in query or "dataAcaoInicio" not in query:
            return 500, {"error": "Internal Server Error"}, {}  # the real API answers 500, not 400
        with self.lock:
            items = [
                t for t in self.tasks.values()
                if t["categoria"] == query["categoria"] and (t["dataAcao"] or "") >= query["dataAcaoInicio"]
            ]  # fmt: skip
        items.sort(key=lambda t: t["id"])
        return 200, _page(items, query), {}

    def get_task(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        task = self.tasks.get(request.groups[0])
        return (200, task, {}) if task else (404, {"message": "Tarefa não encontrada"}, {})

    def task_owners(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        return 200, self.owners.get(request.groups[0], []), {}

    def task_activities(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        return 200, self.activities.get(request.groups[0], []), {}

    def list_clients(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        return 200, _page(self.clients, request.query), {}

    def search_clients(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        text = request.query.get("texto", "").lower()
        return 200, _page([c for c in self.clients if text in c["nome"].lower()], request.query), {}

    def pre_task(self, request: Request) -> Reply:
        if not self._authorized(request):
            return 401, {"error": "invalid_token"}, {}
        body = request.body or {}
        missing = [k for k in ("departamentoId", "assunto", "clienteId") if not body.get(k)]
        if missing:
            return 400, {"message": f"Campos obrigatórios: {', '.join(missing)}"}, {}
        with self.lock:
            self.received.append(("preTarefas", request.path, body))
            client = next((c for c in self.clients if str(c["id"]) == str(body["clienteId"])), None)
            task_id = f"4.{next(self._ids)}"
            self.add_task(
                task_id, body["assunto"], client["nome"] if client else "", "P",
                action=self.clock.now().strftime("%Y-%m-%d"),
            )  # fmt: skip
        return 201, {"id": task_id, "assunto": body["assunto"], "status": "P"}, {}

    def server(self) -> JsonApiServer:
        routes = [
            ("POST", r"/oauth/token", "token", self.token),
            ("GET", r"/tarefas", "tarefas", self.list_tasks),
            ("GET", r"/tarefas/([\w.]+)", "tarefa", self.get_task),
            ("GET", r"/tarefas/([\w.]+)/responsaveis", "responsaveis", self.task_owners),
            ("GET", r"/tarefas/([\w.]+)/atividades", "atividades", self.task_activities),
            ("GET", r"/clientes", "clientes", self.list_clients),
            ("GET", r"/clientes/search", "clientes", self.search_clients),
            ("POST", r"/v2/tarefas/preTarefas", "preTarefas", self.pre_task),
        ]
        return JsonApiServer(routes, self.faults)

    @contextmanager
    def credentials_in_env(self) -> Iterator[None]:
        """The sandbox's own (not secret) credentials, where a config expects them, for the duration."""
        with variables(GCLICK_CLIENT_ID=self.client_id, GCLICK_CLIENT_SECRET=self.client_secret):
            yield


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    page, size = int(query.get("page", 0)), max(1, int(query.get("size", 20)))
    chunk = items[page * size : (page + 1) * size]
    total_pages = max(1, -(-len(items) // size))
    return {
        "content": chunk,
        "number": page,
        "size": size,
        "totalElements": len(items),
        "totalPages": total_pages,
        "last": page >= total_pages - 1,
    }
