"""HY9xx: rules support leads define in the TOML, without code.

[rules.HY901]
name = "roadmap-question"
summary = "Roadmap questions belong in #sugestoes-produto"
match_phrases = ["roadmap", "quando vai ter", "when will you support"]
match_patterns = ['\\bvai ter (suporte|integracao)\\b']
only_channels = ["support-team", "dia-a-dia"]
says = "Perguntas de roadmap vão no #sugestoes-produto, onde o time de produto acompanha."
mode = "nudge"
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from hygiene.models import ChatMessage, Mode
from hygiene.ports import RuleContext
from hygiene.rulebase import Rule, RuleSettings, Verdict, check_patterns, compile_configured
from hygiene.text import matchable

CUSTOM_CODE = re.compile(r"^HY9\d\d$")


class CustomSettings(RuleSettings):
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", description="kebab-case name shown with the code.")
    summary: str = ""
    match_phrases: list[str] = Field(
        default_factory=list, description="Phrases, matched accent- and case-insensitively."
    )
    match_patterns: list[str] = Field(default_factory=list, description="Regular expressions on the folded text.")
    only_channels: list[str] = Field(default_factory=list, description="Channel names or ids (empty: everywhere).")
    include_replies: bool = False
    says: str = Field(min_length=1, description="What the bot says in the thread when the rule fires.")

    @field_validator("match_patterns")
    @classmethod
    def _compile(cls, value: list[str]) -> list[str]:
        check_patterns(value)
        return value

    @model_validator(mode="after")
    def _matches_something(self) -> CustomSettings:
        if not self.match_phrases and not self.match_patterns:
            raise ValueError("a custom rule needs match_phrases or match_patterns")
        return self


class CustomRule(Rule):
    """A rule defined in the TOML (HY900–HY999): phrases or patterns, channels, a message, a mode."""

    code: ClassVar[str] = "HY900"
    name: ClassVar[str] = "custom"
    summary: ClassVar[str] = "A rule defined in the TOML"
    default_mode = Mode.NUDGE
    Settings = CustomSettings

    def evaluate(self, message: ChatMessage, ctx: RuleContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, CustomSettings)
        if settings.only_channels and not {message.channel, message.channel_name} & set(settings.only_channels):
            return Verdict.no("not one of its channels")
        if message.is_reply and not settings.include_replies:
            return Verdict.no("a thread reply")
        text = matchable(message.plain)
        matched = [p for p in settings.match_phrases if _phrase(p).search(text)]
        matched += [m.group(0) for p in settings.match_patterns if (m := compile_configured(p).search(text))]
        if not matched:
            return Verdict.no("none of its phrases or patterns")
        return Verdict.yes(0.9, {"phrases": matched}, settings.says)


def _phrase(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(matchable(phrase))}(?![a-z0-9])")


def custom_rule_class(code: str, settings: CustomSettings) -> type[CustomRule]:
    """A rule class for one TOML-defined code, so it lists and documents like the built-in ones."""
    doc = f"{settings.summary or settings.name}\n\nA custom rule defined in the TOML.\n\nSays:\n    {settings.says}"
    attributes = {"code": code, "name": settings.name, "summary": settings.summary or settings.name, "__doc__": doc}
    return type(f"Custom{code}", (CustomRule,), attributes)
