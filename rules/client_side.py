"""What the client-side rules (HY3xx) share: who the client is, when a message was sent, whether
it is history synced late, and how a person is named where the team reads it.

A conversation with a client is one thread (the contact's); its messages carry the neutral
``author_side`` (``client``, ``agent``, ``note``), ``sent_at``, ``department`` and ``client_hint``, never the
platform's own fields. Names shown in the team's chat are a first name and the client, never a
phone number.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from hygiene.models import ChatMessage
from hygiene.ports import RuleContext
from hygiene.refs import find_refs
from hygiene.rulebase import Verdict
from hygiene.text import fold, words
from rules.speech import BARE_NUMBER

LATE_SYNC = timedelta(minutes=10)
"""Stored this long after it was sent: history synced late, which nobody could have answered in time."""
_NAME_WORD = re.compile(r"[^\W\d_][\w'-]*")
_SUBJECT_WORD_MIN = 5


def not_the_clients(message: ChatMessage, late: str) -> Verdict | None:
    """Why a client-side rule leaves a message alone before judging it: an agent's or a note, or
    history synced late (``late`` says what that means for the rule), else None."""
    if message.author_side != "client":
        return Verdict.no("not a client's message")
    if late_synced(message):
        return Verdict.no(f"history synced late: {late}")
    return None


def sent(message: ChatMessage) -> datetime:
    """When the client (or agent) sent the message: the platform's send time when known."""
    return message.sent_at or message.at


def late_synced(message: ChatMessage) -> bool:
    """History synced long after it was sent (WhatsApp backfill): never judged as if it were new."""
    return message.sent_at is not None and message.at - message.sent_at > LATE_SYNC


def client_of(message: ChatMessage, ctx: RuleContext) -> str | None:
    """The helpdesk client a contact's message is about, through the client matcher: the connector's
    client hint (the contact's organization, tag or explicit mapping) first, then the contact's name
    (its organization is often part of it: "Fernanda (Brascont)"), else a client named in the text."""
    for text in (message.client_hint, message.user_name, message.plain):
        if text and (match := ctx.tickets.find_client(text)):
            return match.client
    return None


def first_name(name: str | None) -> str:
    """The first word of a contact's name that is a name (no digits, no masked number), or "cliente"."""
    match = _NAME_WORD.search(re.sub(r"\[[^\]]*\]", " ", name or ""))
    return match.group(0) if match else "cliente"


def who(message: ChatMessage, client: str | None, anonymise: bool = True) -> str:
    """How the team's chat names the author: first name and client (or the whole contact name)."""
    name = first_name(message.user_name) if anonymise else (message.user_name or "cliente")
    return f"{name} ({client})" if client and fold(client) not in fold(name) else name


def conversation_after(message: ChatMessage, ctx: RuleContext) -> list[ChatMessage]:
    """The conversation's messages by people after ``message`` (agents' and the client's)."""
    return [m for m in ctx.thread(message) if m.at > message.at and m.judged]


def refs_after(message: ChatMessage, ctx: RuleContext) -> list[str]:
    """Ticket references in the message or said after it in the conversation (a ticket number the
    helpdesk knows, a link, "tarefa 4533")."""
    found: list[str] = []
    for item in (message, *conversation_after(message, ctx)):
        found += [ref.key for ref in find_refs(item.plain, ctx.url_patterns)]
        found += [n for n in BARE_NUMBER.findall(item.plain) if ctx.tickets.known(n) is not None]
    return found


def subject_stems(text: str) -> set[str]:
    """The stems (first five letters) of a text's content words of five letters or more, folded: to
    match a request to a ticket's subject ("notas de serviço" and "nota de serviço")."""
    return {word[:_SUBJECT_WORD_MIN] for word in words(fold(text)) if len(word) >= _SUBJECT_WORD_MIN}
