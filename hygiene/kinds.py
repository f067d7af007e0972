"""The registry of chat and helpdesk kinds: how the core finds a connector without importing it.

A connector package declares one :class:`ChatKind` or :class:`HelpdeskKind` and names it in
``pyproject.toml`` under the entry-point groups ``hygiene.chat`` or ``hygiene.helpdesk``; the
config validates a ``[[chat]]`` entry or the ``[helpdesk]`` section against the kind's own settings
model, and :mod:`hygiene.wiring` builds the connector with the kind's ``build``. Adding a platform
edits no core module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from hygiene.clock import Clock
from hygiene.settings import ChatSettings, HelpdeskSettings

if TYPE_CHECKING:
    from hygiene.ports import Chat, Helpdesk
    from hygiene.ports.events import ChatEvents

CHAT_GROUP = "hygiene.chat"
HELPDESK_GROUP = "hygiene.helpdesk"


@dataclass(frozen=True)
class ChatBuild:
    """What building a chat connector may use besides its settings."""

    clock: Clock
    zone_name: str = "America/Sao_Paulo"
    users: Mapping[str, tuple[str, bool]] = field(default_factory=dict)
    """People the store already knows (id → (name, is_bot)), so they are not looked up again."""
    token: str | None = None
    """A credential handed in directly (the sandbox), instead of the one named in the settings."""
    app_token: str | None = None
    """The push connection's credential handed in directly (the sandbox's Socket Mode token)."""


@dataclass(frozen=True)
class HelpdeskBuild:
    """What building a helpdesk connector may use besides its settings."""

    clock: Clock | None = None
    zone_name: str = "America/Sao_Paulo"


@dataclass(frozen=True)
class ChatKind:
    name: str
    settings: type[ChatSettings]
    build: Callable[[Any, ChatBuild], Chat]
    """Build the connector from its validated settings (an instance of ``settings``)."""
    channel_id: Callable[[str], bool] = lambda _: False
    """Whether a channel as written in the config is an id rather than a name (offline checks)."""
    render: Callable[[str], str] = lambda markup: markup
    """The platform's markup as plain text (``hygiene explain`` judges pasted messages with it)."""
    events: Callable[[Any, Any, ChatBuild], ChatEvents] | None = None
    """The push connection for ``hygiene serve`` from the settings and the kind's own chat (None: it cannot push)."""
    with_clients: bool = False
    """Its conversations are with clients (read, internal notes only): the daily report then has
    its client-side line."""


@dataclass(frozen=True)
class HelpdeskKind:
    name: str
    settings: type[HelpdeskSettings]
    build: Callable[[Any, HelpdeskBuild], Helpdesk]


@cache
def chat_kinds() -> dict[str, ChatKind]:
    """Every installed chat kind, by name."""
    return _load(CHAT_GROUP, ChatKind)


@cache
def is_channel_id(channel: str) -> bool:
    """Whether a channel as written is an id to some registered chat kind (``C0123ABCD`` in Slack)."""
    return any(kind.channel_id(channel) for kind in chat_kinds().values())


def helpdesk_kinds() -> dict[str, HelpdeskKind]:
    """Every installed helpdesk kind, by name."""
    return _load(HELPDESK_GROUP, HelpdeskKind)


def _load(group: str, expected: type[ChatKind] | type[HelpdeskKind]) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for point in entry_points(group=group):
        kind = point.load()
        if not isinstance(kind, expected) or kind.name != point.name:
            raise TypeError(f"entry point {group}:{point.name} is not a {expected.__name__} named {point.name!r}")
        kinds[kind.name] = kind
    return dict(sorted(kinds.items()))
