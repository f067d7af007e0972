"""The Slack app manifest asks for exactly the scopes of the methods the connector calls."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
SCOPES_OF = {
    "auth.test": set(),
    "chat.getPermalink": set(),
    "conversations.history": {"channels:history", "groups:history", "im:history", "metadata.message:read"},
    "conversations.replies": {"channels:history", "groups:history", "metadata.message:read"},
    "conversations.list": {"channels:read", "groups:read"},
    "users.info": {"users:read"},
    "users.lookupByEmail": {"users:read", "users:read.email"},
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "conversations.open": {"im:write"},
    "reactions.add": {"reactions:write"},
    "chat.update": {"chat:write"},
    "views.open": set(),
    "conversations.members": {"channels:read", "groups:read"},
}
SCOPES_OF_EVENT = {
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "reaction_added": {"reactions:read"},
}


def called_methods() -> set[str]:
    package = ROOT / "connectors" / "chat" / "slack"
    source = "\n".join(path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py")))
    return set(re.findall(r'(?:\.call|\.pages)\(\s*"([a-zA-Z]+\.[a-zA-Z]+)"', source))


def manifest_scopes() -> set[str]:
    text = (ROOT / "contrib" / "slack-app-manifest.yml").read_text(encoding="utf-8")
    bot = text.split("bot:", 1)[1].split("settings:", 1)[0]
    return set(re.findall(r"^\s+- ([a-z.:_]+)\s*$", bot, re.MULTILINE))


def manifest_events() -> set[str]:
    text = (ROOT / "contrib" / "slack-app-manifest.yml").read_text(encoding="utf-8")
    events = text.split("bot_events:", 1)[1].split("interactivity:", 1)[0]
    return set(re.findall(r"^\s+- ([a-z._]+)\s*$", events, re.MULTILINE))


def test_every_called_method_has_a_known_scope_set() -> None:
    assert called_methods() <= set(SCOPES_OF), called_methods() - set(SCOPES_OF)


def test_manifest_scopes_are_exactly_the_used_ones() -> None:
    needed = set().union(*(SCOPES_OF[m] for m in called_methods()), *(SCOPES_OF_EVENT[e] for e in manifest_events()))
    assert manifest_scopes() == needed


def test_manifest_enables_socket_mode_interactivity_and_the_shortcut() -> None:
    text = (ROOT / "contrib" / "slack-app-manifest.yml").read_text(encoding="utf-8")
    assert manifest_events() == set(SCOPES_OF_EVENT)
    assert "socket_mode_enabled: true" in text and "is_enabled: true" in text
    assert "callback_id: hygiene:shortcut_ticket" in text and "type: message" in text
