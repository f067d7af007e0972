"""A Rocket.Chat chat's settings: a ``[[chat]]`` entry of kind ``rocketchat``.

hygiene signs in as a bot user with a personal access token: every REST call carries
``X-User-Id`` (the bot's user id) and ``X-Auth-Token`` (the token), both read from the environment
(apps/meteor/app/api/server/ApiClass.ts, ``authenticatedRoute``). History pages hold at most 100
messages: ``API_Upper_Count_Limit`` (apps/meteor/server/settings/general.ts) clamps ``count``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from hygiene.settings import ChatSettings, env_name, http_url

DEFAULT_BUDGET = {
    "me": 2,
    "channels.list.joined": 5,
    "channels.list": 5,
    "groups.list": 5,
    "channels.history": 40,
    "groups.history": 40,
    "chat.getThreadMessages": 40,
    "chat.getMessage": 40,
    "chat.sendMessage": 40,
    "chat.react": 20,
    "im.create": 20,
    "users.info": 50,
    "users.list": 10,
}
"""Calls per endpoint per cycle. Bots bypass Rocket.Chat's REST rate limiter by default
(``api-bypass-rate-limit``, apps/meteor/app/authorization/server/functions/upsertPermissions.ts);
the budget keeps one cycle's load bounded all the same."""


class RocketChatSettings(ChatSettings):
    kind: Literal["rocketchat"] = "rocketchat"
    base_url: str = Field(description="The Rocket.Chat server (https://host): every workspace has its own.")
    user_id_env: str = Field(
        "ROCKETCHAT_USER_ID", description="The environment variable holding the bot user's id (X-User-Id)."
    )
    token_env: str = Field(
        "ROCKETCHAT_TOKEN",
        description="The environment variable holding the bot user's personal access token (X-Auth-Token).",
    )
    page_size: int = Field(100, ge=1, le=100, description="Messages per history page (Rocket.Chat allows up to 100).")
    timeout_seconds: float = Field(15, gt=0)
    retries: int = Field(3, ge=0, le=10)
    max_retry_after_seconds: float = Field(10, ge=0)
    max_sleep_per_cycle_seconds: float = Field(
        60, ge=0, description="Backoff and rate-limit waits in one cycle stop here; the rest waits for the next."
    )
    budget: dict[str, int] = Field(default_factory=dict)

    _url = field_validator("base_url")(http_url)
    _env = field_validator("token_env", "user_id_env")(env_name)

    @field_validator("base_url")
    @classmethod
    def _server_root(cls, value: str) -> str:
        return value.rstrip("/").removesuffix("/api/v1").removesuffix("/api")

    @field_validator("budget")
    @classmethod
    def _known_endpoints(cls, value: dict[str, int]) -> dict[str, int]:
        for endpoint, calls in value.items():
            if endpoint not in DEFAULT_BUDGET:
                known = ", ".join(sorted(DEFAULT_BUDGET))
                raise ValueError(f"unknown Rocket.Chat endpoint {endpoint!r} (known: {known})")
            if calls < 1:
                raise ValueError(f"{endpoint}: a budget below 1 means hygiene can never call it; give it at least 1")
        return value

    def call_budget(self) -> dict[str, int]:
        """Calls per endpoint per cycle: the defaults, then ``budget``."""
        return DEFAULT_BUDGET | self.budget
