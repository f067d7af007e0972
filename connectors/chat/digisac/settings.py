"""A Digisac chat's settings: a ``[[chat]]`` entry of kind ``digisac``.

``channels`` are Digisac **services** (Conexões: one WhatsApp number, a Telegram bot …), by name
or id. A service is the stream every message belongs to (``serviceId`` is on every message in
the recorded traffic, douglara/digisac ``spec/cassettes``), while a department belongs to a
Digisac ticket (``ticketDepartmentId``) and is absent on messages outside one (late-synced
history has ``ticketId: null``). The department stays available to rules in each message's
``extras``.

``client_from`` says where a contact's client is read, in order: the organization (its person's
organization, else the person), a custom field (``custom_field:<id or name>``), a tag
(``tag:<prefix>``: the rest of the first tag that starts with it) or the contact's name.
``contacts`` maps the odd contacts (by id or by name) straight to a client.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from connectors.http import HttpSettings
from hygiene.settings import ChatSettings, env_name, http_url

DEFAULT_BUDGET = {
    "me": 2,
    "services.list": 5,
    "messages.list": 60,
    "messages.comment": 40,
    "users.list": 10,
    "contacts.list": 20,
    "tickets.list": 20,
    "departments.list": 5,
}
"""Calls per kind of request per cycle (Digisac publishes no rate limits: research §1.4)."""
CLIENT_SOURCES = ("organization", "name")
"""Sources named alone in ``client_from``; ``custom_field:`` and ``tag:`` take a name after them."""
NAMED_SOURCES = ("custom_field:", "tag:")


class DigisacSettings(ChatSettings, HttpSettings):
    kind: Literal["digisac"] = "digisac"
    base_url: str = Field(
        "https://ACCOUNT.digisac.co/api/v1",
        description="The account's API root, e.g. https://ACCOUNT.digisac.co/api/v1 (domains vary: .app, .biz, .me).",
    )
    token_env: str = Field(
        "DIGISAC_TOKEN",
        description="The environment variable holding a personal access token (Conta > API), sent as a bearer.",
    )
    page_size: int = Field(100, ge=1, le=500, description="Messages per page (perPage); Digisac's default is 15.")
    overlap_seconds: float = Field(
        120, ge=0, le=3600, description="Each read starts this far before the newest createdAt already read."
    )
    budget: dict[str, int] = Field(default_factory=dict, description="Calls per request kind per cycle.")
    client_from: list[str] = Field(
        default_factory=lambda: list(CLIENT_SOURCES),
        description='Where a contact\'s client is read, in order: "organization", "custom_field:<id or name>", '
        '"tag:<prefix>", "name".',
    )
    contacts: dict[str, str] = Field(
        default_factory=dict, description="Contact id or name → client, for contacts the sources cannot map."
    )

    _url = field_validator("base_url")(http_url)
    _env = field_validator("token_env")(env_name)

    @field_validator("budget")
    @classmethod
    def _known_requests(cls, value: dict[str, int]) -> dict[str, int]:
        for name, calls in value.items():
            if name not in DEFAULT_BUDGET:
                raise ValueError(f"unknown Digisac request {name!r} (known: {', '.join(sorted(DEFAULT_BUDGET))})")
            if calls < 1:
                raise ValueError(f"{name}: a budget below 1 means hygiene can never call it; give it at least 1")
        return value

    @field_validator("client_from")
    @classmethod
    def _known_sources(cls, value: list[str]) -> list[str]:
        for source in value:
            if source in CLIENT_SOURCES:
                continue
            prefix = next((p for p in NAMED_SOURCES if source.startswith(p)), None)
            if prefix is None:
                known = ", ".join([*CLIENT_SOURCES, "custom_field:<name>", "tag:<prefix>"])
                raise ValueError(f"unknown client source {source!r} (known: {known})")
            if not source[len(prefix) :].strip():
                raise ValueError(f"{source!r}: name the {prefix[:-1].replace('_', ' ')} after the colon")
        return value

    @field_validator("contacts")
    @classmethod
    def _clients_named(cls, value: dict[str, str]) -> dict[str, str]:
        for contact, client in value.items():
            if not contact.strip() or not client.strip():
                raise ValueError(f"{contact!r} = {client!r}: both the contact and the client need a name")
        return value

    def call_budget(self) -> dict[str, int]:
        return DEFAULT_BUDGET | self.budget
