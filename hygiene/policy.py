"""Policy: what may be done with a finding. One finding → at most one nudge, and people first.

The decision is ``report``, ``nudge``, ``auto`` or ``suppressed:<reason>``: the rule's mode,
then exemptions, the message's age, dry-run, the per-person cooldown and daily budget, and the
rule's own daily limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hygiene.config import Config, PolicySection
from hygiene.models import ChatMessage, Finding, Mode
from hygiene.rulebase import RuleSettings
from hygiene.store import Store


def exemption(policy: PolicySection, message: ChatMessage) -> str:
    """Why a message is exempt from nudges (``exempt_channel``, ``exempt_user``, ``exempt_emoji``), or ""."""
    if set(policy.exempt_channels) & {message.channel, message.channel_name}:
        return "exempt_channel"
    if message.user in policy.exempt_users or message.user_name in policy.exempt_users:
        return "exempt_user"
    if any(message.reacted_with(emoji) for emoji in policy.exempt_emoji):
        return "exempt_emoji"
    return ""


def static_action(policy: PolicySection, settings: RuleSettings, message: ChatMessage) -> str:
    """What the policy would do without the time-dependent parts (age, cooldowns, budgets): for audits."""
    if settings.mode == Mode.OFF:
        return "suppressed:off"
    if settings.mode == Mode.REPORT:
        return "report"
    reason = exemption(policy, message)
    return f"suppressed:{reason}" if reason else settings.mode.value


DEFAULT_MAX_AGE = timedelta(hours=4)


class Policy:
    def __init__(self, config: Config, store: Store) -> None:
        self.policy = config.policy
        self.dry_run = config.hygiene.dry_run
        self.max_age = {chat.source: timedelta(minutes=chat.nudge_max_age_minutes) for chat in config.chats}
        self.zone = ZoneInfo(config.hygiene.timezone)
        self.store = store

    def decide(
        self,
        finding: Finding,
        settings: RuleSettings,
        message: ChatMessage,
        now: datetime,
        aged_from: datetime | None = None,
    ) -> str:
        """What to do about a finding; ``aged_from`` is where its age starts for ``nudge_max_age_minutes``
        (:meth:`~hygiene.rulebase.Rule.aged_from`; the message's own time by default)."""
        if settings.mode == Mode.OFF:
            return "suppressed:off"
        if settings.mode == Mode.REPORT:
            return "report"
        reason = self._suppression(finding, settings, message, now, aged_from or message.at)
        return f"suppressed:{reason}" if reason else settings.mode.value

    def _suppression(
        self, finding: Finding, settings: RuleSettings, message: ChatMessage, now: datetime, aged_from: datetime
    ) -> str:
        if reason := exemption(self.policy, message):
            return reason
        if now - aged_from > self.max_age.get(message.source, DEFAULT_MAX_AGE):
            return "too_old"
        if self.dry_run:
            return "dry_run"
        if message.user:
            cooldown = timedelta(minutes=self.policy.cooldown_minutes)
            if cooldown and self.store.reports.nudges_to(message.user, now - cooldown):
                return "cooldown"
            if (
                self.store.reports.nudges_to(message.user, self._start_of_day(now))
                >= self.policy.daily_budget_per_person
            ):
                return "daily_budget"
        limit = settings.max_nudges_per_day
        if limit is not None and self.store.reports.nudges_for_rule(finding.rule, self._start_of_day(now)) >= limit:
            return "rule_limit"
        return ""

    def decide_ticket(self, finding: Finding, settings: RuleSettings, recipient: str | None, now: datetime) -> str:
        """Ticket findings: the mode, dry-run, the recipient's daily budget and the rule's limit."""
        if settings.mode == Mode.OFF:
            return "suppressed:off"
        if settings.mode == Mode.REPORT:
            return "report"
        if self.dry_run:
            return "suppressed:dry_run"
        day = self._start_of_day(now)
        if recipient and self.store.reports.nudges_to(recipient, day) >= self.policy.daily_budget_per_person:
            return "suppressed:daily_budget"
        limit = settings.max_nudges_per_day
        if limit is not None and self.store.reports.nudges_for_rule(finding.rule, day) >= limit:
            return "suppressed:rule_limit"
        return settings.mode.value

    def _start_of_day(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
