"""The base of every settings section, and the neutral part of a chat's and a helpdesk's settings.

Connectors extend :class:`ChatSettings` and :class:`HelpdeskSettings` with their own keys (Slack's
``token_env``, G Click's ``category``); the core reads only the neutral keys defined here. Unknown
keys are refused and secrets are never accepted in the file: only the names of environment
variables that hold them (``*_env`` keys).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from hygiene.errors import ConfigError
from hygiene.logs import looks_like_secret

SECRET_KEYS = {"token", "bot_token", "api_token", "password", "client_secret", "secret"}
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def http_url(value: str | None) -> str | None:
    """An http(s) URL with a host, else a ValueError that says what one looks like."""
    if value is None:
        return value
    parts = urlsplit(value.replace("{id}", "1"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not a URL: write it as https://host/path")
    return value


def env_name(value: str) -> str:
    """A ``*_env`` key names an environment variable; a pasted secret is refused and never echoed."""
    if not ENV_NAME.fullmatch(value) or looks_like_secret(value):
        raise ValueError(
            "this is not the name of an environment variable (it may be the secret itself: the value is not "
            "shown); put the secret in the environment, e.g. export SLACK_BOT_TOKEN=…, and name the variable here"
        )
    return value


def secret_from_env(env: str, where: str) -> str:
    """The value of the environment variable ``env``, or a ConfigError naming the key that names it."""
    value = os.environ.get(env, "").strip()
    if not value:
        raise ConfigError(f"{where}: environment variable {env} is not set")
    return value


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_in_file(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in SECRET_KEYS:
                    raise ValueError(
                        f"'{key}' is a secret: set it in the environment (see *_env keys), not in the file"
                    )
        return data

    def secret_envs(self) -> list[str]:
        """The environment variables this section reads secrets from (their values are masked in logs)."""
        return [str(getattr(self, name)) for name in type(self).model_fields if name.endswith("_env")]


class ChatSettings(Section):
    """One chat hygiene watches (a ``[[chat]]`` entry): what every platform shares."""

    kind: str = Field(description="Which platform: a registered chat kind (slack, …).")
    name: str | None = Field(
        None,
        description=(
            "This chat's name, which keys its messages, links and cursors in the store (default: its kind)."
            " Give two chats of the same kind different names."
        ),
    )
    channels: list[str] = Field(default_factory=list, description="Channels to watch (names or ids).")
    rescan_hours: float = Field(24, gt=0, le=24 * 14, description="Re-read this far back for edits and replies.")
    backfill_hours: float = Field(24, gt=0, le=24 * 90, description="Never read further back than this.")
    nudge_max_age_minutes: float = Field(240, gt=0, description="Older messages are recorded but never nudged.")
    message_retention_days: float = Field(14, gt=0, description="Message text is forgotten after this.")
    _key_path: str = PrivateAttr("chat")

    @property
    def key_path(self) -> str:
        """Where this chat is in the config file (``chat[1]``, or ``slack`` for the older section)."""
        return self._key_path

    @key_path.setter
    def key_path(self, value: str) -> None:
        self._key_path = value

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: list[str]) -> list[str]:
        cleaned = [item.strip().lstrip("#") for item in value]
        for index, item in enumerate(cleaned):
            if not item:
                raise ValueError(f"item {index} is empty")
        return cleaned

    @property
    def source(self) -> str:
        """The name that keys this chat's data."""
        return self.name or self.kind


class HelpdeskSettings(Section):
    """The helpdesk hygiene reads and writes (``[helpdesk]``): what every helpdesk shares."""

    kind: str = Field("none", description="Which helpdesk: none, or a registered helpdesk kind.")
    sync_every_minutes: float = Field(
        0, ge=0, description="Sync at most this often (0: every cycle). G Click sweeps its whole list: 10 is kinder."
    )

    def ticket_url_template(self) -> str | None:
        """A ticket's link as configured (``{id}`` in it), or None: for offline commands that make or
        recognise links without building the connector. Kinds with a ``url_template`` key return it."""
        return None
