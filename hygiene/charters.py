"""Channel charters: what a channel is for, declared per channel in the TOML and enforced alike on
every chat (``[charters.<channel>]``).

A charter says who may post (``automated_only``, ``posters``), whether questions belong there,
where to ask instead, which alerts need a status reply from their owner within business hours
(``[charters.<channel>.status]``), and which kinds of message belong elsewhere
(``[[charters.<channel>.elsewhere]]``). Rules read charters through the
:class:`~hygiene.ports.RuleContext` (``ctx.charter(message)``), never from the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import Field, field_validator

from hygiene.models import ChatMessage
from hygiene.settings import Section

MENTIONED = "mentioned"
"""``status.from``: the owners of an alert are the people it mentions."""
_CUE_SYNTAX = re.compile(r"[|*=^]|\.\.\.")


class StatusDuty(Section):
    """Alerts in the channel need a status reply from their owner within business hours."""

    from_: str = Field(
        MENTIONED,
        alias="from",
        description='"mentioned" (the people the alert mentions) or a people group (people.groups).',
    )
    within_hours: float = Field(gt=0, description="Business hours the owner has to reply in the alert's thread.")
    escalate_to: list[str] | str = Field(
        default_factory=list, description="User ids to mention when nobody answered, or a channel (#name)."
    )

    @property
    def escalation(self) -> list[str]:
        """The people (or the channel) told when the owner did not answer, as a list."""
        return [self.escalate_to] if isinstance(self.escalate_to, str) else list(self.escalate_to)


class Elsewhere(Section):
    """A kind of message that belongs somewhere else, known by plain cue words or phrases."""

    name: str = Field(min_length=1, description="What kind of message this is, e.g. roadmap-suggestion.")
    pt: list[str] = Field(default_factory=list, description="Portuguese cue words or phrases (folded when matched).")
    en: list[str] = Field(default_factory=list, description="English cue words or phrases (folded when matched).")
    vocabulary: str | None = Field(
        None,
        description="A vocabulary hygiene ships for this kind (roadmap, bug or critical), matched besides the cues.",
    )
    goes_to: str = Field(min_length=1, description="Where it belongs: a channel (#name), a URL or a sentence.")
    sla: str | None = Field(None, description="The answer time promised there, shown in the nudge.")

    @field_validator("pt", "en")
    @classmethod
    def _plain_cues(cls, value: list[str]) -> list[str]:
        for index, cue in enumerate(value):
            if not cue.strip():
                raise ValueError(f"[{index}]: an empty cue would match nothing")
            if _CUE_SYNTAX.search(cue):
                raise ValueError(f"[{index}]: {cue!r}: cues are plain words or phrases (no | * = ^ or ...)")
        return value


class Charter(Section):
    """One channel's charter (``[charters.<channel>]``)."""

    purpose: str = Field(min_length=1, description="What the channel is for, shown in nudges.")
    automated_only: bool = Field(
        False, description="Only bots and integrations post; replies in an alert's thread are allowed."
    )
    posters: list[str] = Field(
        default_factory=list, description="People groups (people.groups) allowed to post besides bots (none: anyone)."
    )
    questions: bool = Field(True, description="false: questions do not belong here.")
    ask_instead: str | None = Field(None, description="Where to ask or post instead: #channel, a URL or a sentence.")
    status: StatusDuty | None = None
    elsewhere: list[Elsewhere] = Field(default_factory=list)


@dataclass(frozen=True)
class CharterBook:
    """Every channel's charter, found by channel name or id, with the people groups they name."""

    charters: Mapping[str, Charter] = field(default_factory=dict)
    groups: Mapping[str, list[str]] = field(default_factory=dict)

    def charter(self, message: ChatMessage) -> Charter | None:
        """The charter of the message's channel (by name, then by id), or None."""
        for key in (message.channel_name, message.channel):
            if key and key.lstrip("#") in self.charters:
                return self.charters[key.lstrip("#")]
        return None

    def people_in(self, groups: Iterable[str]) -> frozenset[str]:
        """The user ids of the named groups."""
        return frozenset(user for group in groups for user in self.groups.get(group, ()))


def charter_problems(charters: Mapping[str, Charter], groups: Mapping[str, list[str]], watched: list[str]) -> list[str]:
    """Key paths of charter settings that name no watched channel or no known people group."""
    problems = []
    known = ", ".join([MENTIONED, *sorted(groups)])
    for channel, charter in charters.items():
        if watched and channel not in watched:
            problems.append(
                f'charters.{channel}: "{channel}" is not a watched channel (only watched channels are judged)'
            )
        for index, group in enumerate(charter.posters):
            if group not in groups:
                problems.append(f'charters.{channel}.posters[{index}]: unknown people group "{group}" (people.groups)')
        if charter.status and charter.status.from_ != MENTIONED and charter.status.from_ not in groups:
            problems.append(f'charters.{channel}.status.from: unknown group "{charter.status.from_}" (known: {known})')
    return problems
