"""What people's actions on nudges do: buttons, the "Already in #N" form, the message shortcut
and 👎 — each checked (only people in the channel may act), carried out through the store and
the outbox (idempotent keys: a double click does one thing), labeled, and audited.

Platform-neutral: the chat connector turned a click into a :class:`PushEvent` with an
:class:`Intent`; here nothing knows what a button looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from hygiene.cycle.judge import offered
from hygiene.models import Action, ActionKind, ChatMessage, Ticket
from hygiene.ports import Chat, Helpdesk
from hygiene.ports.events import ChatEvents, Intent, PushEvent
from hygiene.recipients import Recipients
from hygiene.rulebase import Rule
from hygiene.store import Store
from hygiene.store.feedback import Label
from hygiene.ticket_links import create_action, created_message

log = structlog.get_logger("hygiene.serve")

REQUEST_RULE = "HY101"
THUMBS_DOWN = frozenset({"-1", "thumbsdown"})
TEXT = {
    "pt": {
        "rejected": "Ok, {user} marcou que não é um pedido. Obrigado pelo retorno!",
        "linked": "Vinculado ao atendimento {ref} por {user}.",
        "not_found": "Não encontrei o atendimento {ref} no {helpdesk}.",
        "not_member": "Só quem está neste canal pode usar estes botões.",
        "asked": "{user} pediu no canal uma atualização do atendimento {ref}.",
    },
    "en": {
        "rejected": "Ok, {user} marked this as not a request. Thanks for the feedback!",
        "linked": "Linked to ticket {ref} by {user}.",
        "not_found": "I could not find ticket {ref} in {helpdesk}.",
        "not_member": "Only people in this channel can use these buttons.",
        "asked": "{user} asked in the channel for an update on ticket {ref}.",
    },
}


@dataclass
class Outcome:
    """What one interaction did, for the audit trail and the counts."""

    result: str
    label: str | None = None
    ticket: bool = False


class Interactions:
    """Carries out people's actions on nudges and messages."""

    def __init__(
        self,
        store: Store,
        rules: dict[str, Rule],
        helpdesk: Helpdesk | None,
        zone: ZoneInfo,
        recipients: Recipients | None = None,
    ) -> None:
        self.store, self.rules, self.helpdesk, self.zone = store, rules, helpdesk, zone
        self.recipients = recipients
        """Who is told about a ticket (its owner by DM first): "Ask owner to update" uses it."""

    def handle(self, event: PushEvent, chat: Chat, events: ChatEvents, now: datetime) -> Outcome:
        """Check, carry out and audit one interaction."""
        user = event.user or ""
        if not events.is_member(event.channel, user):
            self._tell(event, chat, "not_member", self._language(event.fingerprint), now)
            outcome = Outcome("refused: not in the channel")
        else:
            outcome = self._dispatch(event, chat, events, now)
        self.store.feedback.audit(
            event.source,
            event.channel,
            event.message_id,
            event.user,
            str(event.intent),
            outcome.result,
            now,
            fingerprint=event.fingerprint,
            ticket_ref=event.ticket_ref,
            delivery=event.delivery,
        )
        log.info("serve.interaction", intent=str(event.intent), user=event.user, outcome=outcome.result)
        return outcome

    def _dispatch(self, event: PushEvent, chat: Chat, events: ChatEvents, now: datetime) -> Outcome:
        if event.intent == Intent.SHORTCUT_TICKET:
            return self._shortcut(event, chat, now)
        finding = self._finding(event.fingerprint)
        if finding is None:
            return Outcome("ignored: unknown finding")
        if event.intent == Intent.CREATE_TICKET:
            return self._create(event, chat, finding, now)
        if event.intent == Intent.NOT_A_REQUEST:
            return self._reject(event, finding, "not_a_request", now)
        if event.intent == Intent.ALREADY_IN:
            return self._already_in(event, chat, events, finding, now)
        if event.intent == Intent.ASK_OWNER:
            return self._ask_owner(event, finding, now)
        return Outcome("ignored: unknown intent")

    # the finding a button acts on ------------------------------------------------------------
    def _finding(self, fingerprint: str | None) -> dict[str, Any] | None:
        if not fingerprint:
            return None
        return self.store.findings.get(fingerprint)

    def _message(self, source: str, channel: str, message_id: str) -> ChatMessage | None:
        return self.store.messages.get(source, channel, message_id)

    def _language(self, fingerprint: str | None) -> str:
        finding = self._finding(fingerprint)
        return str((finding or {}).get("evidence", {}).get("language", "pt"))

    # intents -----------------------------------------------------------------------------------
    def _create(self, event: PushEvent, chat: Chat, finding: dict[str, Any], now: datetime) -> Outcome:
        message = self._message(finding["source"], finding["channel"], finding["message_id"])
        rule = self.rules.get(finding["rule"])
        if message is None or rule is None or self.helpdesk is None:
            return Outcome("ignored: nothing to create a ticket from")
        action = create_action(message, offered(rule, message, finding["evidence"]), self.zone, chat.display_name)
        queued = self.store.outbox.enqueue(action, now)
        self._label(finding, event, "confirmed", "button", now)
        return Outcome("ticket queued" if queued else "ticket already queued", "confirmed", ticket=queued)

    def _reject(self, event: PushEvent, finding: dict[str, Any], how: str, now: datetime) -> Outcome:
        added = self._label(finding, event, "rejected", how, now)
        if how == "not_a_request":
            language = str(finding["evidence"].get("language", "pt"))
            text = TEXT.get(language, TEXT["pt"])["rejected"].format(user=self._name(event))
            self._edit(event.source, event.channel, event.message_id, finding["fingerprint"], "rejected", text, now)
        return Outcome("labeled rejected" if added else "already labeled", "rejected" if added else None)

    def _already_in(
        self, event: PushEvent, chat: Chat, events: ChatEvents, finding: dict[str, Any], now: datetime
    ) -> Outcome:
        language = str(finding["evidence"].get("language", "pt"))
        if not event.ticket_ref:
            events.ask_ticket_number(event, language)
            return Outcome("asked for the ticket number")
        ticket = self.helpdesk.get_ticket(event.ticket_ref) if self.helpdesk else None
        words = TEXT.get(language, TEXT["pt"])
        if ticket is None or self.helpdesk is None:
            helpdesk = self.helpdesk.display_name if self.helpdesk else "helpdesk"
            self._tell(event, chat, "not_found", language, now, ref=event.ticket_ref, helpdesk=helpdesk)
            return Outcome(f"refused: ticket {event.ticket_ref} not found")
        thread = finding["thread_id"] or finding["message_id"]
        self.store.links.add_thread(
            event.source, finding["channel"], thread, ticket.id, self.helpdesk.name, "linked", now
        )
        self._label(finding, event, "confirmed", "already_in", now)
        text = words["linked"].format(ref=ticket.reference, user=self._name(event))
        self._edit(event.source, event.channel, event.message_id, finding["fingerprint"], "linked", text, now)
        return Outcome(f"linked to {ticket.reference}", "confirmed")

    def _ask_owner(self, event: PushEvent, finding: dict[str, Any], now: datetime) -> Outcome:
        """Ask the ticket's owner (a DM, or the ticket's department channel) to update it, once."""
        evidence = finding["evidence"]
        ref = str(evidence.get("ticket") or "")
        ticket = self._ticket(ref)
        recipient = self.recipients.for_ticket(ticket, now) if ticket and self.recipients else None
        if ticket is None or recipient is None:
            return Outcome(f"refused: no owner to ask for ticket {ref or '?'}")
        language = str(evidence.get("language", "pt"))
        link = f" {ticket.url}" if ticket.url else ""
        words = TEXT.get(language, TEXT["pt"])
        text = words["asked"].format(ref=f"{ticket.reference}{link}", user=self._name(event))
        action = Action(
            kind=recipient.kind,
            key=f"{finding['fingerprint']}:ask_owner",
            channel=recipient.channel,
            user=recipient.user,
            source=recipient.source,
            text=text,
            fingerprint=finding["fingerprint"],
            rule=finding["rule"],
        )
        queued = self.store.outbox.enqueue(action, now)
        return Outcome(f"owner asked ({recipient.described})" if queued else "owner already asked")

    def _ticket(self, ref: str) -> Ticket | None:
        if not ref or self.helpdesk is None:
            return None
        stored = self.store.tickets.all(self.helpdesk.name)
        return next((t for t in stored if ref in (t.reference, t.id)), None) or self.helpdesk.get_ticket(ref)

    def _shortcut(self, event: PushEvent, chat: Chat, now: datetime) -> Outcome:
        message = self._message(event.source, event.channel, event.message_id)
        rule = self.rules.get(REQUEST_RULE)
        if message is None or rule is None or self.helpdesk is None:
            return Outcome("ignored: message not stored yet or no helpdesk")
        finding = offered(rule, message, {"language": "pt", "shortcut": True})
        queued = self.store.outbox.enqueue(create_action(message, finding, self.zone, chat.display_name), now)
        label = Label(
            event.source,
            event.channel,
            message.id,
            "missed",
            event.user or "",
            "shortcut",
            finding.fingerprint,
            rule.code,
        )
        self.store.feedback.add(label, now)
        return Outcome("ticket queued" if queued else "ticket already queued", "missed", ticket=queued)

    def thumbs_down(self, event: PushEvent, now: datetime) -> bool:
        """👎 on one of hygiene's nudges: the nudge's finding is labeled rejected."""
        if event.emoji not in THUMBS_DOWN:
            return False
        nudge = self.store.feedback.nudge_posted_as(event.source, event.channel, event.message_id)
        finding = self._finding(nudge[0]) if nudge else None
        if finding is None:
            return False
        return self._label(finding, event, "rejected", "reaction", now)

    def link_created(self, fingerprint: str, helpdesk_name: str, now: datetime) -> bool:
        """Once the ticket a button asked for exists, the nudge is edited to link it (once)."""
        finding = self._finding(fingerprint)
        posted = self.store.feedback.posted_nudge(fingerprint)
        if finding is None or posted is None or self.helpdesk is None:
            return False
        thread = finding["thread_id"] or finding["message_id"]
        ids = self.store.links.of_thread(posted[0], posted[1], thread)
        tickets = {t.id: t for t in self.store.tickets.all(self.helpdesk.name)}
        ticket = next((tickets[i] for i in ids if i in tickets), None)
        if ticket is None:
            return False
        text = created_message(ticket, helpdesk_name, str(finding["evidence"].get("language", "pt")))
        return self._edit(posted[0], posted[1], posted[2], fingerprint, "created", text, now)

    # helpers -----------------------------------------------------------------------------------
    def _name(self, event: PushEvent) -> str:
        """How the person who acted is called in the chat (their id when not known yet)."""
        known = self.store.people.cached_users(event.source).get(event.user or "")
        return known[0] if known else (event.user or "?")

    def _label(self, finding: dict[str, Any], event: PushEvent, label: str, how: str, now: datetime) -> bool:
        entry = Label(
            finding["source"],
            finding["channel"],
            finding["message_id"],
            label,
            event.user or "",
            how,
            finding["fingerprint"],
            finding["rule"],
        )
        return self.store.feedback.add(entry, now)

    def _edit(
        self, source: str, channel: str, target: str, fingerprint: str, what: str, text: str, now: datetime
    ) -> bool:
        action = Action(
            kind=ActionKind.EDIT,
            key=f"{fingerprint}:edit:{what}",
            channel=channel,
            source=source,
            text=text,
            target_id=target,
            fingerprint=fingerprint,
        )
        return self.store.outbox.enqueue(action, now)

    def _tell(
        self, event: PushEvent, chat: Chat, what: str, language: str, now: datetime, **values: str | None
    ) -> None:
        text = TEXT.get(language, TEXT["pt"])[what].format(**values)
        action = Action(
            kind=ActionKind.EPHEMERAL if chat.capabilities.ephemeral else ActionKind.DM,
            key=f"tell:{event.delivery or event.received}:{what}",
            channel=event.channel,
            thread_id=event.thread_id,
            source=event.source,
            user=event.user,
            text=text,
        )
        self.store.outbox.enqueue(action, now)
