"""Moving client work out of chat: tickets created from a thread, threads linked to tickets,
and a line in the thread when a linked ticket changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from hygiene.models import LEGACY_SOURCE, Action, ActionKind, ChatMessage, Finding, Ticket
from hygiene.ports import TicketDraft
from hygiene.refs import find_refs
from hygiene.store import Store

TICKET_EMOJI = "ticket"
STATUS_WORDS = {
    "pt": {"open": "aberto", "pending": "pendente", "solved": "resolvido", "closed": "fechado"},
    "en": {"open": "open", "pending": "pending", "solved": "solved", "closed": "closed"},
}
PRE_TASK_CODES = {"P", "Q"}
OFFER = {
    "pt": " Reaja com :ticket: nesta mensagem e eu abro o atendimento.",
    "en": " React with :ticket: to this message and I will open the ticket.",
}


def draft_for(message: ChatMessage, finding: Finding, zone: ZoneInfo, chat_name: str = "chat") -> str:
    """The ticket to create for a HY101 finding, as JSON for the outbox (``chat_name``: where it was asked)."""
    first = message.plain.split("\n")[0].strip()
    subject = first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "…"
    when = message.at.astimezone(zone)
    quoted = "\n".join(f"> {line}" for line in message.plain.splitlines())
    description = (
        f"Pedido feito no {chat_name} por {message.user_name or message.user} em "
        f"#{message.channel_name or message.channel} ({when:%d/%m/%Y %H:%M}):\n{quoted}"
    )
    return json.dumps(
        {
            "subject": subject,
            "description": description,
            "client": finding.evidence.get("client"),
            "requester": message.user_name,
            "language": finding.evidence.get("language", "pt"),
        },
        ensure_ascii=False,
    )


def create_action(message: ChatMessage, finding: Finding, zone: ZoneInfo, chat_name: str = "chat") -> Action:
    return Action(
        kind=ActionKind.CREATE_TICKET,
        key=f"{finding.fingerprint}:create",
        channel=message.channel,
        thread_id=message.root_id,
        source=message.source,
        text=draft_for(message, finding, zone, chat_name),
        user=message.user,
        fingerprint=finding.fingerprint,
        rule=finding.rule,
    )


def parse_draft(text: str, permalink: str | None) -> tuple[TicketDraft, str]:
    data = json.loads(text)
    description = data["description"] + (f"\n\nLink: {permalink}" if permalink else "")
    draft = TicketDraft(
        subject=data["subject"],
        description=description,
        client=data.get("client"),
        requester=data.get("requester"),
        client_id=data.get("client_id"),
    )
    return draft, data.get("language", "pt")


def created_message(ticket: Ticket, helpdesk: str, language: str) -> str:
    link = f" {ticket.url}" if ticket.url else ""
    if ticket.raw_status in PRE_TASK_CODES:
        if language == "en":
            return (
                f"I opened pre-task {ticket.reference} in {helpdesk}{link}; a person must confirm it. "
                "I'll post here when they do."
            )
        return (
            f"Abri a pré-tarefa {ticket.reference} no {helpdesk}{link}; ela precisa ser confirmada por um "
            "responsável. Aviso aqui quando for."
        )
    if language == "en":
        return f"I opened ticket #{ticket.reference} in {helpdesk}{link}. Please follow up there."
    return f"Abri o atendimento #{ticket.reference} no {helpdesk}{link}. O andamento segue por lá."


def set_client_message(helpdesk: str, language: str) -> str:
    """Added to the "created" reply when the ticket was created without a client."""
    if language == "en":
        return f"I could not tell which client this is for: please set the client on the ticket in {helpdesk}."
    return f"Não consegui saber de qual cliente é: por favor, defina o cliente no {helpdesk}."


def ask_client_message(helpdesk: str, permalink: str | None, language: str, chat_name: str = "chat") -> str:
    """To a channel's lead when the helpdesk needs a client hygiene could not tell."""
    where = f" {permalink}" if permalink else ""
    if language == "en":
        return (
            f"I need to open a ticket in {helpdesk} for a request in {chat_name}{where}, but I cannot tell which "
            "client it is for. Reply in that thread with the client's name as it is in the helpdesk "
            "(or add an alias under [clients] aliases) and I will open it."
        )
    return (
        f"Preciso abrir um atendimento no {helpdesk} para um pedido feito no {chat_name}{where}, mas não sei de qual "
        "cliente é. Responda naquela thread com o nome do cliente como está no helpdesk (ou configure um "
        "alias em [clients] aliases) e eu abro o atendimento."
    )


def update_message(ticket: Ticket, before: Ticket, language: str = "pt") -> str:
    words = STATUS_WORDS[language]
    link = f" {ticket.url}" if ticket.url else ""
    if confirmed(before, ticket) and ticket.status == "open":
        if language == "en":
            return f"Pre-task {ticket.reference} was confirmed and is now a task{link}."
        return f"A pré-tarefa {ticket.reference} foi confirmada e virou tarefa{link}."
    if language == "en":
        return f"Ticket #{ticket.reference} is now *{words[ticket.status]}* (was {words[before.status]}){link}."
    return f"O atendimento #{ticket.reference} agora está *{words[ticket.status]}* (era {words[before.status]}){link}."


def confirmed(before: Ticket, after: Ticket) -> bool:
    """A pre-task a person has confirmed since the last sync."""
    return before.raw_status in PRE_TASK_CODES and after.raw_status not in PRE_TASK_CODES


def changed(before: Ticket, after: Ticket) -> bool:
    return before.status != after.status or confirmed(before, after)


def thread_updates(store: Store, helpdesk: str, tickets: list[Ticket], now: datetime) -> list[Action]:
    """A thread reply for every thread linked to a ticket whose status changed since the last sync."""
    previous = {t.id: t for t in store.tickets.all(helpdesk)}
    actions = []
    for ticket in tickets:
        before = previous.get(ticket.id)
        if before is None or not changed(before, ticket):
            continue
        for source, channel, thread_id in store.links.for_ticket(helpdesk, ticket.id):
            state = ticket.raw_status or ticket.status
            where = f"{channel}:{thread_id}" if source == LEGACY_SOURCE else f"{source}:{channel}:{thread_id}"
            actions.append(
                Action(
                    kind=ActionKind.THREAD_REPLY,
                    key=f"update:{helpdesk}:{ticket.id}:{state}:{where}",
                    channel=channel,
                    thread_id=thread_id,
                    source=source,
                    text=update_message(ticket, before),
                    rule="update",
                )
            )
    return actions


def link_references(
    store: Store,
    helpdesk: str,
    messages: list[ChatMessage],
    by_ref: Callable[[str], Ticket | None],
    url_patterns: list[re.Pattern[str]],
    now: datetime,
) -> int:
    """Link each thread to the tickets people name in it. Returns the number of new links."""
    made = 0
    for message in messages:
        if message.is_bot:
            continue
        for ref in find_refs(message.plain, url_patterns):
            ticket = by_ref(ref.key)
            if ticket is not None:
                made += store.links.add(message, ticket.id, helpdesk, "reference", now)
    return made
