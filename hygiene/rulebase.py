"""The pattern every rule follows.

A rule is one class in ``rules/<CODE>.py`` with ``code``, ``name``, a nested pydantic
``Settings`` and a docstring that is its user documentation ("What it does", "Why it matters",
"Examples" in Portuguese and English; "Settings" is generated from the model). ``evaluate``
takes a message and a :class:`~hygiene.ports.RuleContext` and returns a :class:`Verdict` —
fired or not, and why — so that ``hygiene explain`` can show the reasoning; ``check`` turns a
fired verdict into a :class:`~hygiene.models.Finding`.
"""

from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar, Literal, cast

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hygiene.models import ChatMessage, Finding, Mode, Ticket
from hygiene.ports import RuleContext, TicketContext

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print its own parse errors to stderr; ours name the key


def check_patterns(patterns: list[str], where: str = "") -> None:
    """Raise a ValueError naming the first configured pattern hygiene cannot run safely.

    The one check every pattern from the TOML goes through (phrase lists, custom rules).
    """
    for index, pattern in enumerate(patterns):
        problem = pattern_problem(pattern)
        if problem:
            raise ValueError(f"{where}[{index}]: {problem}")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a configured pattern, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a regular expression: {exc}"
    try:
        compile_configured(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return (
            f"not supported by the linear-time engine (RE2: {reason}); configured patterns run on RE2 so that"
            " no message can make one backtrack for minutes: rewrite it without look-arounds or back-references"
        )
    return None


@cache
def compile_configured(pattern: str) -> re.Pattern[str]:
    """A team-written pattern compiled with RE2, which matches in linear time whatever the pattern.

    Nested quantifiers such as ``^(\\w+\\s?)*$`` or ``(a|aa)*`` backtrack exponentially on the standard
    ``re`` and would hang a cycle holding the lock. RE2's compiled patterns have the ``search``,
    ``match`` and ``finditer`` of ``re.Pattern`` (``\\w`` and ``\\b`` are ASCII: text is folded first).
    """
    return cast("re.Pattern[str]", re2.compile(pattern, options=_RE2_OPTIONS))


class RuleSettings(BaseModel):
    """Settings every rule has; a rule's own ``Settings`` subclasses this."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    mode: Mode = Field(Mode.NUDGE, description="off | report | nudge | auto")
    max_nudges_per_day: int | None = Field(
        None, ge=0, description="Cap on this rule's nudges per day across all channels (none: no cap)."
    )
    phrases: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="Extra phrase patterns by language and list, e.g. {pt = {request = ['\\\\bsolicitamos\\\\b']}}.",
    )
    replace_phrases: bool = Field(False, description="true: the phrases above replace the shipped lists.")
    channels: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-channel overrides (ticket rules: per department), keyed by name or id.",
    )

    @field_validator("phrases")
    @classmethod
    def _patterns_compile(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        for language, lists in value.items():
            for name, patterns in lists.items():
                check_patterns(patterns, f"{language}.{name}")
        return value

    def for_channel(self, *names: str | None) -> RuleSettings:
        """These settings with the first matching per-channel override applied."""
        for name in names:
            if name and name in self.channels:
                merged = self.model_dump(exclude={"channels"}) | self.channels[name]
                return type(self).model_validate(merged)
        return self


@dataclass(frozen=True)
class Verdict:
    """A rule's answer about one message: whether it fires, how sure it is, and why."""

    fired: bool
    reason: str
    score: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)
    says: str = ""

    @classmethod
    def no(cls, reason: str, score: float = 0.0, **evidence: Any) -> Verdict:
        return cls(False, reason, score, evidence)

    @classmethod
    def yes(cls, score: float, evidence: dict[str, Any], says: str, reason: str = "fires") -> Verdict:
        return cls(True, reason, max(0.0, min(1.0, score)), evidence, says)


class RuleBase(ABC):
    """What chat and ticket rules share: identity, settings and the documentation they print."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    default_mode: ClassVar[Mode] = Mode.NUDGE
    Settings: ClassVar[type[RuleSettings]] = RuleSettings
    phrase_lists: ClassVar[tuple[str, ...]] = ()
    """The phrase lists this rule reads from ``rules/data/<CODE>.toml`` (so the TOML can extend them)."""
    answers_status: ClassVar[bool] = False
    """Its nudges answer a status question (counted as answers in the daily figures)."""
    enforces_charter: ClassVar[bool] = False
    """It enforces channel charters (its findings are counted apart in the daily figures)."""

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings or self.Settings(mode=self.default_mode)

    @classmethod
    def documentation(cls) -> str:
        """The docstring plus a generated table of settings, as ``hygiene rules CODE`` prints it."""
        doc = inspect.cleandoc(cls.__doc__ or "")
        lines = [f"{cls.code} {cls.name}", "", doc, "", "Settings:"]
        for field_name, info in cls.Settings.model_fields.items():
            default = info.default_factory() if info.default_factory else info.default  # type: ignore[call-arg]
            if info.is_required():
                lines.append(f"  {field_name} (required)")
                if info.description:
                    lines.append(f"      {info.description}")
                continue
            if field_name == "mode":
                default = cls.default_mode.value
            elif hasattr(default, "value"):
                default = default.value
            lines.append(f"  {field_name} = {default!r}")
            if info.description:
                lines.append(f"      {info.description}")
        if cls.phrase_lists:
            lines += ["", f"Phrase lists (rules/data/{cls.code}.toml, per language): {', '.join(cls.phrase_lists)}"]
        return "\n".join(lines)


class Rule(RuleBase):
    """A chat rule: judged on messages (and their threads)."""

    offers_ticket: ClassVar[bool] = False
    """With a helpdesk, its nudge offers to open a ticket (:ticket:) and ``auto`` mode opens it."""
    judges_automated: ClassVar[bool] = False
    """It also judges automated posts (alerts by bots and integrations), which other rules never see."""

    judges_client_side: ClassVar[bool] = False
    """It judges conversations with clients (WhatsApp through Digisac) and only those; the other
    rules judge the team's own chat and never a client's or an agent's message to a client."""

    client_figure: ClassVar[str | None] = None
    """The daily report's client-side figure its findings count in (``waiting``, ``untracked``)."""
    tells_team: ClassVar[Literal["conversation", "department", "channel"]] = "conversation"
    """Where a client-side rule's nudge goes: an internal note in the conversation (the only write
    a client channel takes), a post in the department's channel of the team's chat, or a post in
    the team's chat channel its ``channel`` setting names."""

    def judges(self, message: ChatMessage) -> bool:
        """Whether the message is this rule's to judge: a person's, or an automated post if it judges
        those, on the side of the conversation the rule is about (the team's chat or a client's)."""
        if message.in_client_channel != self.judges_client_side:
            return False
        return message.judged or (self.judges_automated and message.automated)

    def settings_for(self, message: ChatMessage) -> RuleSettings:
        """The settings in the message's channel (asked per rule per message, so merged once per channel)."""
        settings = self.settings
        if not settings.channels:
            return settings
        cache: dict[tuple[str | None, str], RuleSettings] = self.__dict__.setdefault("_per_channel", {})
        key = (message.channel_name, message.channel)
        if key not in cache:
            cache[key] = settings.for_channel(*key)
        return cache[key]

    def grace(self, settings: RuleSettings) -> timedelta:
        """How long after a message the rule waits before judging it (people may still add to it)."""
        return timedelta(0)

    def ready(self, message: ChatMessage, ctx: RuleContext) -> bool:
        return ctx.now - message.at >= self.grace(self.settings_for(message))

    def aged_from(self, message: ChatMessage, ctx: RuleContext) -> datetime:
        """Where a finding's age starts for ``nudge_max_age_minutes``: the message's own time, or, for a
        rule that waits longer than that age (business hours for an owner's answer), the end of its wait."""
        return message.at

    @abstractmethod
    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        """Judge ``message`` with the settings that apply in its channel."""

    def may_fire(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> bool:
        """A cheap test, read from the rule's own data, that ``evaluate`` can fire on the message at all.

        False only when it cannot (no cue of the rule's lists in the text, no charter in the channel,
        a reply where only thread starts are judged …): :meth:`check` then skips ``evaluate``, so a
        finding never depends on it. :meth:`verdict` (what ``explain`` shows) always evaluates.
        """
        return True

    def verdict(self, message: ChatMessage, ctx: RuleContext) -> Verdict:
        settings = self.settings_for(message)
        if settings.mode == Mode.OFF:
            return Verdict.no(f"switched off in #{message.channel_name or message.channel}")
        return self.evaluate(message, ctx, settings)

    def check(self, message: ChatMessage, ctx: RuleContext) -> Finding | None:
        """A finding when the rule fires on ``message``, else None (the verdict's, behind :meth:`may_fire`)."""
        settings = self.settings_for(message)
        if settings.mode == Mode.OFF or not self.may_fire(message, ctx, settings):
            return None
        verdict = self.evaluate(message, ctx, settings)
        return self.finding(message, verdict) if verdict.fired else None

    def finding(self, message: ChatMessage, verdict: Verdict) -> Finding:
        return Finding(
            rule=self.code,
            name=self.name,
            channel=message.channel,
            channel_name=message.channel_name,
            message_id=message.id,
            thread_id=message.thread_id,
            source=message.source,
            user=message.user,
            text=message.plain,
            score=verdict.score,
            evidence=verdict.evidence,
            message=verdict.says,
        )


class TicketRuleSettings(RuleSettings):
    language: Literal["pt", "en"] = Field("pt", description="Language of the message (per department under channels).")


class TicketRule(RuleBase):
    """A rule over helpdesk tickets (HY2xx): judged on the ticket snapshot every cycle.

    ``channels`` overrides in its settings are keyed by the ticket's department.
    """

    Settings: ClassVar[type[RuleSettings]] = TicketRuleSettings
    tells: ClassVar[Literal["owner", "department"]] = "owner"
    """Who hears about a finding first: the ticket's owner, or its department's channel (no owner)."""

    def settings_for(self, ticket: Ticket) -> RuleSettings:
        return self.settings.for_channel(ticket.department)

    @abstractmethod
    def evaluate(self, ticket: Ticket, ctx: TicketContext, settings: RuleSettings) -> Verdict:
        """Judge one ticket; a fired verdict's evidence has ``key`` (the episode it is about)."""

    def verdict(self, ticket: Ticket, ctx: TicketContext) -> Verdict:
        settings = self.settings_for(ticket)
        if settings.mode == Mode.OFF:
            return Verdict.no(f"switched off for {ticket.department or 'this department'}")
        return self.evaluate(ticket, ctx, settings)

    def finding(self, ticket: Ticket, verdict: Verdict) -> Finding:
        return Finding(
            rule=self.code,
            name=self.name,
            channel="",
            message_id="",
            user=ticket.assignee,
            text=f"#{ticket.reference} {ticket.subject}",
            score=verdict.score,
            evidence=verdict.evidence,
            message=verdict.says,
            key=str(verdict.evidence.get("key", f"ticket:{ticket.id}")),
        )
