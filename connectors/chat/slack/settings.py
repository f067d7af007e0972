"""A Slack chat's settings: a ``[[chat]]`` entry of kind ``slack`` (or the older ``[slack]`` section)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from hygiene.settings import ChatSettings, env_name, http_url

DEFAULT_BUDGET = {
    "conversations.history": 40,
    "conversations.replies": 40,
    "conversations.list": 5,
    "users.info": 50,
    "chat.postMessage": 40,
    "chat.postEphemeral": 40,
    "chat.getPermalink": 40,
    "conversations.open": 20,
    "reactions.add": 20,
    "auth.test": 2,
    "users.lookupByEmail": 20,
    "chat.update": 40,
    "views.open": 20,
    "conversations.members": 20,
}

# Slack's 2025 limits for apps distributed commercially outside the Marketplace:
# conversations.history and conversations.replies at 1 request a minute, 15 messages each.
UNLISTED_BUDGET = {"conversations.history": 1, "conversations.replies": 1}


class SlackSettings(ChatSettings):
    kind: Literal["slack"] = "slack"
    token_env: str = Field("SLACK_BOT_TOKEN", description="The environment variable holding the bot token (xoxb-…).")
    app_token_env: str = Field(
        "SLACK_APP_TOKEN",
        description="The variable holding the app-level token (xapp-…, scope connections:write) for `hygiene serve`.",
    )
    base_url: str = "https://slack.com/api/"
    page_size: int = Field(200, ge=1, le=999)
    timeout_seconds: float = Field(15, gt=0)
    retries: int = Field(3, ge=0, le=10)
    max_retry_after_seconds: float = Field(10, ge=0)
    max_sleep_per_cycle_seconds: float = Field(
        60, ge=0, description="Backoff and Retry-After waits in one cycle stop here; the rest waits for the next."
    )
    budget: dict[str, int] = Field(default_factory=dict)
    distribution: Literal["internal", "marketplace", "unlisted"] = Field(
        "internal",
        description=(
            "How the Slack app is distributed. 'unlisted' (commercially distributed outside the "
            "Marketplace) gets 1 history/replies call a minute and 15 messages a call: budgets follow."
        ),
    )

    _url = field_validator("base_url")(http_url)
    _env = field_validator("token_env", "app_token_env")(env_name)

    @field_validator("budget")
    @classmethod
    def _known_methods(cls, value: dict[str, int]) -> dict[str, int]:
        for method, calls in value.items():
            if method not in DEFAULT_BUDGET:
                raise ValueError(f"unknown Slack method {method!r} (known: {', '.join(sorted(DEFAULT_BUDGET))})")
            if calls < 0:
                raise ValueError(f"{method}: a budget cannot be negative")
            if calls == 0:
                raise ValueError(
                    f"{method}: a budget of 0 means hygiene can never call it, so that part of every cycle"
                    " never happens (channels unread, nothing posted); give it at least 1"
                )
        return value

    def call_budget(self) -> dict[str, int]:
        """Calls per method per cycle: the defaults, the distribution's limits, then ``budget``."""
        limits = dict(DEFAULT_BUDGET)
        if self.distribution == "unlisted":
            limits |= UNLISTED_BUDGET
        return limits | self.budget

    def history_page_size(self) -> int:
        return min(self.page_size, 15) if self.distribution == "unlisted" else self.page_size
