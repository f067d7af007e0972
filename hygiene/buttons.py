"""Which buttons a nudge carries, when the chat can draw them and ``hygiene serve`` is listening.

A request nudge (a rule that offers a ticket: HY101) offers "Create ticket", "Not a request" and
"Already in #N"; a status answer (HY102) offers "Open ticket" (the link in its text) and "Ask owner
to update". Under ``hygiene run`` nobody would receive the clicks, so nudges there carry none.
"""

from __future__ import annotations

from dataclasses import replace

from hygiene.models import Action, ActionKind
from hygiene.ports.events import BUTTONS_FOR_REQUESTS, BUTTONS_FOR_STATUS


def with_buttons(action: Action, offers_ticket: bool, language: str, answers_status: bool = False) -> Action:
    """The nudge with its rule's buttons (other actions unchanged): request buttons for a rule that
    offers a ticket, status buttons for one that answers status questions."""
    if action.kind != ActionKind.THREAD_REPLY or not action.fingerprint:
        return action
    intents: tuple[str, ...]
    if offers_ticket:
        intents = BUTTONS_FOR_REQUESTS
    elif answers_status:
        intents = BUTTONS_FOR_STATUS
    else:
        return action
    return replace(action, buttons=tuple(str(intent) for intent in intents), language=language)
