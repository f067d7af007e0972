"""Judging one channel's window: rules → findings → policy → outbox, and :ticket: offers taken up.

Platform-neutral and reusable: the polling cycle calls it per channel after a read, and a
push-mode ``hygiene serve`` can call it per event with the same store, policy and outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from hygiene.business_time import BusinessCalendar
from hygiene.buttons import with_buttons
from hygiene.charters import CharterBook
from hygiene.context import LiveTickets, TicketSnapshot, WindowContext
from hygiene.cycle.report import CycleReport
from hygiene.models import Action, ActionKind, ChatMessage, Finding, Staleness, Ticket
from hygiene.policy import Policy
from hygiene.ports import ChannelInfo, ChatSource, Helpdesk
from hygiene.recipients import Recipient, Recipients
from hygiene.rulebase import Rule
from hygiene.store import Store
from hygiene.ticket_links import OFFER, TICKET_EMOJI, create_action, link_references

log = structlog.get_logger("hygiene.engine")


class Judge:
    """The message rules over one channel's stored window, with the policy deciding what is said."""

    def __init__(
        self,
        rules: Sequence[Rule],
        store: Store,
        policy: Policy,
        zone: ZoneInfo,
        helpdesk: Helpdesk | None,
        not_before: Callable[[datetime], datetime | None],
        charters: CharterBook | None = None,
        calendar: BusinessCalendar | None = None,
        recipients: Recipients | None = None,
    ) -> None:
        self.charters, self.calendar, self.recipients = charters, calendar, recipients
        self.rules = list(rules)
        self.by_code = {rule.code: rule for rule in self.rules}
        self.store, self.policy, self.zone, self.helpdesk = store, policy, zone, helpdesk
        self.not_before = not_before
        self.buttons = False
        """Nudges carry buttons (``hygiene serve`` listens for the clicks, on chats that draw them)."""

    def channel(
        self,
        chat: ChatSource,
        channel: ChannelInfo,
        since: datetime,
        snapshot: TicketSnapshot,
        now: datetime,
        report: CycleReport,
        staleness: Callable[[Ticket, datetime], Staleness | None] | None = None,
    ) -> None:
        """Judge every message of the channel posted since ``since`` that a rule judges (people's; alerts
        for the rules that judge automated posts), once per message and rule."""
        messages = self.store.messages.since(chat.source, channel.id, since)
        tickets = LiveTickets(snapshot, self.helpdesk.get_ticket) if self.helpdesk else snapshot
        patterns = self.helpdesk.url_patterns() if self.helpdesk else []
        if self.helpdesk:
            link_references(self.store, self.helpdesk.name, messages, snapshot.by_ref, patterns, now)
        context = WindowContext(
            now, messages, tickets, patterns, self._links, self.zone, staleness, self.charters, self.calendar
        )
        for message in messages:
            if message.at >= since:
                for rule in self.rules:
                    if rule.judges(message):
                        self.one(rule, message, context, now, report, chat)
        if self.helpdesk:
            self.ticket_reactions(chat, channel, messages, since, now, report)

    def _links(self, message: ChatMessage) -> list[str]:
        return self.store.links.of_thread(message.source, message.channel, message.root_id)

    def one(
        self,
        rule: Rule,
        message: ChatMessage,
        context: WindowContext,
        now: datetime,
        report: CycleReport,
        chat: ChatSource,
    ) -> None:
        settings = rule.settings_for(message)
        if settings.mode.value == "off" or not rule.ready(message, context):
            return
        finding = rule.check(message, context)
        if finding is None or self.store.findings.has(finding.fingerprint):
            return
        decision = self.policy.decide(finding, settings, message, now, rule.aged_from(message, context))
        self.store.findings.add(finding, decision, now)
        report.count_finding(finding.rule, decision)
        channel = message.channel_name or message.channel
        log.info("finding", rule=finding.rule, channel=channel, id=message.id, action=decision)
        offers = rule.offers_ticket and self.helpdesk is not None
        for action in self.plan(rule, finding, decision, message, chat):
            if self.buttons and chat.capabilities.buttons and not rule.judges_client_side:
                language = str(finding.evidence.get("language", "pt"))
                action = with_buttons(action, offers, language, rule.answers_status)
            waits = self.not_before(now) if action.kind != ActionKind.CREATE_TICKET else None
            report.enqueued += self.store.outbox.enqueue(action, now, waits)

    def plan(self, rule: Rule, finding: Finding, decision: str, message: ChatMessage, chat: ChatSource) -> list[Action]:
        """The actions for a decision: a reply in the message's thread (a ticket offered or opened), or,
        for a client-side rule that tells the team, a post in the team's chat — never a write a client
        could see."""
        offers = rule.offers_ticket and self.helpdesk is not None
        if rule.judges_client_side and rule.tells_team != "conversation" and not (offers and decision == "auto"):
            return team_post(finding, decision, self._team_recipient(rule, message))
        in_thread = offers and (decision == "auto" or not rule.judges_client_side)  # no :ticket: on a client's
        return plan_actions(finding, decision, message, in_thread, self.zone, _display_name(chat))

    def _team_recipient(self, rule: Rule, message: ChatMessage) -> Recipient | None:
        """Where the team hears about a client-side finding (None: report only)."""
        if self.recipients is None:
            return None
        if rule.tells_team == "channel":
            return self.recipients.in_channel(getattr(rule.settings_for(message), "channel", None))
        return self.recipients.for_department(message.department)

    def ticket_reactions(
        self,
        chat: ChatSource,
        channel: ChannelInfo,
        messages: list[ChatMessage],
        since: datetime,
        now: datetime,
        report: CycleReport,
    ) -> None:
        """A :ticket: reaction on a request or on its nudge creates the ticket the nudge offered."""
        by_id = {m.id: m for m in messages}
        offering = [rule.code for rule in self.rules if rule.offers_ticket]
        for rule_code, message_id, evidence in self.store.findings.open_offers(
            offering, chat.source, channel.id, since
        ):
            message = by_id.get(message_id)
            if message is None or self.store.links.of_thread(chat.source, channel.id, message.root_id):
                continue
            nudges = [m for m in messages if m.thread_id == message.id and m.ours]
            asked = [
                user
                for item in (message, *nudges)
                for user in item.reacted_with(TICKET_EMOJI)
                if user != chat.bot_user_id
            ]
            if asked:
                finding = offered(self.by_code[rule_code], message, evidence)
                action = create_action(message, finding, self.zone, _display_name(chat))
                report.enqueued += self.store.outbox.enqueue(action, now)


def offered(rule: Rule, message: ChatMessage, evidence: dict[str, object]) -> Finding:
    """The finding behind a nudge that offered a ticket, as stored (same fingerprint, same evidence)."""
    return Finding(
        rule=rule.code,
        name=rule.name,
        channel=message.channel,
        channel_name=message.channel_name,
        message_id=message.id,
        thread_id=message.thread_id,
        source=message.source,
        user=message.user,
        text="",
        score=0.0,
        evidence=dict(evidence),
    )


def _display_name(chat: ChatSource) -> str:
    return chat.display_name


def plan_actions(
    finding: Finding,
    decision: str,
    message: ChatMessage,
    offers_ticket: bool = False,
    zone: ZoneInfo | None = None,
    chat_name: str = "chat",
) -> list[Action]:
    """The side effects a decision asks for.

    A nudge is a reply in the message's thread; for a rule that offers a ticket (with a helpdesk
    to create it in), the reply offers it (:ticket:), and ``auto`` creates it (its reply follows).
    """
    if decision not in ("nudge", "auto") or not finding.message:
        return []
    if offers_ticket and decision == "auto" and not finding.tracked_elsewhere:
        return [create_action(message, finding, zone or ZoneInfo("America/Sao_Paulo"), chat_name)]
    # auto, but an open ticket of the client names the same subject: offer, never a second ticket
    text = finding.message
    if offers_ticket:
        text += OFFER.get(str(finding.evidence.get("language", "pt")), OFFER["pt"])
    return [
        Action(
            kind=ActionKind.THREAD_REPLY,
            key=f"{finding.fingerprint}:reply",
            channel=message.channel,
            thread_id=message.root_id,
            source=message.source,
            text=text,
            user=message.user,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
        )
    ]


def team_post(finding: Finding, decision: str, recipient: Recipient | None) -> list[Action]:
    """A client-side finding told to the team in its own chat (no channel found: report only)."""
    if decision not in ("nudge", "auto") or not finding.message or recipient is None:
        return []
    return [
        Action(
            kind=recipient.kind,
            key=f"{finding.fingerprint}:team",
            channel=recipient.channel,
            user=recipient.user,
            source=recipient.source,
            text=finding.message,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
        )
    ]


def window_start(now: datetime, rescan_hours: float) -> datetime:
    return now - timedelta(hours=rescan_hours)
