"""A Digisac chat's settings: a ``[[chat]]`` entry of kind ``digisac``.

``channels`` are Digisac **services** (Conexões: one WhatsApp number, a Telegram bot …), by name
or id. A service is the stream every message belongs to (``serviceId`` is on every message in
the recorded traffic, douglara/digisac ``spec/cassettes``), while a department belongs to a
Digisac ticket (``ticketDepartmentId``) and is absent on messages outside one (late-synced
history has ``ticketId: null``). The department stays available to rules in each message's
``extras``.
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

    def call_budget(self) -> dict[str, int]:
        return DEFAULT_BUDGET | self.budget
