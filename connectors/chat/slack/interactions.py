"""Slack's side of interaction: Block Kit buttons on nudges, the "Already in #N" form, and the
Socket Mode envelopes (Events API and interactivity payloads) read into neutral push events.

Buttons carry the finding's fingerprint as their value and ``hygiene:<intent>`` as their action
id; the form carries the nudge it came from in ``private_metadata``; the message shortcut's
callback id is ``hygiene:shortcut_ticket``. Anything else (other apps' actions, unknown event
types) reads as None and is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from hygiene.models import Action, ChatMessage
from hygiene.ports.events import OPEN_TICKET_LINK, EventKind, Intent, PushEvent

ACTION_PREFIX = "hygiene:"
FORM_CALLBACK = "hygiene:already_in"
SHORTCUT_CALLBACK = "hygiene:shortcut_ticket"
FORM_BLOCK, FORM_INPUT = "ticket", "ref"
LABELS = {
    "pt": {
        Intent.CREATE_TICKET: "Criar atendimento",
        Intent.NOT_A_REQUEST: "Não é pedido",
        Intent.ALREADY_IN: "Já está no #…",
        Intent.ASK_OWNER: "Pedir atualização ao responsável",
        OPEN_TICKET_LINK: "Abrir atendimento",
    },
    "en": {
        Intent.CREATE_TICKET: "Create ticket",
        Intent.NOT_A_REQUEST: "Not a request",
        Intent.ALREADY_IN: "Already in #…",
        Intent.ASK_OWNER: "Ask owner to update",
        OPEN_TICKET_LINK: "Open ticket",
    },
}
FORM_TEXT = {
    "pt": ("Já está em um atendimento", "Número do atendimento", "Vincular"),
    "en": ("Already in a ticket", "Ticket number", "Link"),
}
URL = re.compile(r"https?://[^\s|>]+")
MessageReader = Callable[[dict[str, Any], str], ChatMessage | None]
"""Reads a Slack message object of a channel into a ChatMessage (None: not a watched channel)."""


def nudge_blocks(action: Action) -> list[dict[str, Any]] | None:
    """The nudge's text with its buttons under it, or None when it has none."""
    if not action.buttons:
        return None
    labels = LABELS.get(action.language or "pt", LABELS["pt"])
    elements = [button for intent in action.buttons if (button := _button_of(action, intent, labels))]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": action.text[:2900]}}
    return [section, {"type": "actions", "block_id": "hygiene_nudge", "elements": elements}]


def _button_of(action: Action, intent: str, labels: dict[str, str]) -> dict[str, Any] | None:
    """One button: an action hygiene hears about, or a link (the ticket's, from the text)."""
    text = {"type": "plain_text", "text": labels.get(intent, intent)}
    action_id = f"{ACTION_PREFIX}{intent}"
    if intent == OPEN_TICKET_LINK:
        link = URL.search(action.text)
        return {"type": "button", "action_id": action_id, "text": text, "url": link[0]} if link else None
    if intent not in labels:
        return None
    style = {"style": "primary"} if intent == Intent.CREATE_TICKET else {}
    return {"type": "button", "action_id": action_id, "text": text, "value": action.fingerprint or "", **style}


def form_view(event: PushEvent, language: str) -> dict[str, Any]:
    """The "Already in #N" form: one text input, the nudge it came from kept in the metadata."""
    title, label, submit = FORM_TEXT.get(language, FORM_TEXT["pt"])
    metadata = {"channel": event.channel, "message_id": event.message_id, "fingerprint": event.fingerprint}
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "private_metadata": json.dumps({**metadata, "thread_id": event.thread_id}),
        "blocks": [
            {
                "type": "input",
                "block_id": FORM_BLOCK,
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "plain_text_input", "action_id": FORM_INPUT},
            }
        ],
    }


def read_envelope(
    envelope: dict[str, Any], source: str, received: float, read_message: MessageReader
) -> PushEvent | None:
    """A Socket Mode request (``events_api`` or ``interactive``) as a neutral event, or None."""
    payload = envelope.get("payload") or {}
    delivery = str(envelope.get("envelope_id") or "")
    if envelope.get("type") == "events_api":
        return _event(payload.get("event") or {}, source, received, delivery, read_message)
    if envelope.get("type") == "interactive":
        return _interaction(payload, source, received, delivery)
    return None


def _event(
    event: dict[str, Any], source: str, received: float, delivery: str, read_message: MessageReader
) -> PushEvent | None:
    kind, channel = event.get("type"), str(event.get("channel") or "")
    subtype = event.get("subtype")
    base: dict[str, Any] = {"source": source, "received": received, "delivery": delivery}
    if kind == "reaction_added":
        item = event.get("item") or {}
        return PushEvent(
            EventKind.REACTION,
            channel=str(item.get("channel") or ""),
            message_id=str(item.get("ts") or ""),
            user=event.get("user"),
            emoji=event.get("reaction"),
            **base,
        )
    if kind != "message" or not channel:
        return None
    if subtype == "message_deleted":
        return PushEvent(EventKind.DELETED, channel=channel, message_id=str(event.get("deleted_ts") or ""), **base)
    raw = event.get("message") if subtype == "message_changed" else event
    message = read_message(raw or {}, channel)
    if message is None:
        return None
    kind_ = EventKind.CHANGED if subtype == "message_changed" else EventKind.MESSAGE
    return PushEvent(kind_, channel=channel, message_id=message.id, message=message, user=message.user, **base)


def _interaction(payload: dict[str, Any], source: str, received: float, delivery: str) -> PushEvent | None:
    user = str((payload.get("user") or {}).get("id") or "") or None
    base: dict[str, Any] = {"source": source, "received": received, "delivery": delivery, "user": user}
    kind = payload.get("type")
    if kind == "block_actions":
        return _button(payload, base)
    if kind == "view_submission" and (payload.get("view") or {}).get("callback_id") == FORM_CALLBACK:
        return _form(payload["view"], base)
    if kind == "message_action" and payload.get("callback_id") == SHORTCUT_CALLBACK:
        message = payload.get("message") or {}
        return PushEvent(
            EventKind.INTERACTION,
            channel=str((payload.get("channel") or {}).get("id") or ""),
            message_id=str(message.get("ts") or ""),
            thread_id=message.get("thread_ts"),
            intent=Intent.SHORTCUT_TICKET,
            **base,
        )
    return None


def _button(payload: dict[str, Any], base: dict[str, Any]) -> PushEvent | None:
    actions = [a for a in payload.get("actions") or [] if str(a.get("action_id", "")).startswith(ACTION_PREFIX)]
    if not actions:
        return None
    try:
        intent = Intent(actions[0]["action_id"].removeprefix(ACTION_PREFIX))
    except ValueError:
        return None
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    return PushEvent(
        EventKind.INTERACTION,
        channel=str(container.get("channel_id") or (payload.get("channel") or {}).get("id") or ""),
        message_id=str(container.get("message_ts") or message.get("ts") or ""),
        thread_id=message.get("thread_ts"),
        intent=intent,
        fingerprint=str(actions[0].get("value") or "") or None,
        extras={"trigger_id": str(payload.get("trigger_id") or "")},
        **base,
    )


def _form(view: dict[str, Any], base: dict[str, Any]) -> PushEvent | None:
    try:
        origin = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    values = (view.get("state") or {}).get("values") or {}
    typed = str(((values.get(FORM_BLOCK) or {}).get(FORM_INPUT) or {}).get("value") or "").strip()
    return PushEvent(
        EventKind.INTERACTION,
        channel=str(origin.get("channel") or ""),
        message_id=str(origin.get("message_id") or ""),
        thread_id=origin.get("thread_id"),
        intent=Intent.ALREADY_IN,
        fingerprint=origin.get("fingerprint"),
        ticket_ref=typed.lstrip("#") or None,
        **base,
    )
