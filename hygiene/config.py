"""The one TOML file support leads edit, validated by pydantic.

Unknown keys are rejected, every problem is reported with its key path (``slack.channels[2]: …``)
and secrets are read only from the environment. Rule settings are validated against each rule's
own model when the rules are built (see :mod:`hygiene.wiring`).
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AliasChoices, Field, PrivateAttr, SkipValidation, ValidationError, field_validator, model_validator

from hygiene.business_time import DAY_NAMES, BusinessCalendar
from hygiene.charters import Charter, CharterBook, charter_problems
from hygiene.errors import ConfigError
from hygiene.kinds import chat_kinds, helpdesk_kinds, is_channel_id
from hygiene.logs import register_secrets
from hygiene.settings import ChatSettings, HelpdeskSettings, Section
from hygiene.textfiles import TextFileError, read_text

DEFAULT_PATH = "hygiene.toml"


class HygieneSection(Section):
    state_dir: Path = Field(Path(".hygiene"), description="Where the SQLite store and the lock live.")
    dry_run: bool = Field(False, description="Judge and record, but post and create nothing.")
    timezone: str = "America/Sao_Paulo"
    cycle_timeout_seconds: float = Field(
        600,
        ge=1,
        description="A cycle still running after this is ended and reported (exit 1); a lock held longer is stale.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class PolicySection(Section):
    cooldown_minutes: float = Field(30, ge=0, description="At most one nudge per person in this span.")
    daily_budget_per_person: int = Field(5, ge=0, description="At most this many nudges per person a day.")
    exempt_channels: list[str] = Field(default_factory=list)
    exempt_users: list[str] = Field(default_factory=list)
    working_hours_only: bool = Field(
        True, description="Nudges wait for the calendar's working hours and quiet hours (never dropped)."
    )
    exempt_emoji: list[str] = Field(
        default_factory=lambda: ["no_bell"],
        description="A message with one of these reactions is left alone.",
    )


class ClientsSection(Section):
    aliases: dict[str, str] = Field(
        default_factory=dict, description="Other names people use in chat for a client: alias → helpdesk name."
    )
    names: list[str] = Field(default_factory=list, description="Clients to recognise besides the helpdesk's.")
    match_threshold: float = Field(90, ge=50, le=100, description="rapidfuzz score for a close spelling.")


def _clock_range(value: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not a range like 08:00-18:00") from None
    return start, end


class CalendarSection(Section):
    """Working hours, holidays and days off. ``[calendar]`` is the default; ``[calendars.NAME]``
    with ``departments`` applies to those departments' tickets."""

    workdays: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    hours: str = Field("08:00-18:00", description="Working hours, HH:MM-HH:MM.")
    country: str | None = Field("BR", description="Public holidays of this country (holidays library), or none.")
    subdivision: str | None = Field(None, description="A state or region for local holidays, e.g. SP.")
    days_off: list[date] = Field(default_factory=list, description="Extra days off (YYYY-MM-DD).")
    quiet_hours: list[str] = Field(default_factory=list, description="Nudges wait through these, e.g. 12:00-13:00.")
    departments: list[str] = Field(default_factory=list)

    @field_validator("workdays")
    @classmethod
    def _day_names(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('no working days: business time would never pass (name at least one, e.g. "mon")')
        for name in value:
            if name.lower()[:3] not in DAY_NAMES:
                raise ValueError(f"unknown day {name!r} (use {', '.join(DAY_NAMES)})")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, end = _clock_range(value)
        if end <= start:
            raise ValueError("working hours must end after they start")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: list[str]) -> list[str]:
        for item in value:
            _clock_range(item)
        return value

    @model_validator(mode="after")
    def _known_holidays(self) -> CalendarSection:
        if self.country:
            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError as exc:
                raise ValueError(f"no holidays known for {self.country}/{self.subdivision}: {exc}") from None
        return self

    def build(self, zone: ZoneInfo) -> BusinessCalendar:
        opens, closes = _clock_range(self.hours)
        return BusinessCalendar(
            zone,
            workdays=[DAY_NAMES.index(name.lower()[:3]) for name in self.workdays],
            opens=opens,
            closes=closes,
            country=self.country,
            subdivision=self.subdivision,
            days_off=self.days_off,
            quiet=[_clock_range(item) for item in self.quiet_hours],
        )


class SlaPolicy(Section):
    """Response and update windows, in business time, for tickets that match every key given."""

    priority: Literal["urgent", "high", "normal", "low"] | None = None
    category: str | None = None
    department: str | None = None
    first_response_minutes: float = Field(gt=0, description="Business minutes to a first answer.")
    update_hours: float = Field(gt=0, description="Business hours a ticket may go without an update by a person.")


class PeopleSection(Section):
    chat_ids: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("chat_ids", "slack_ids"),
        description="Helpdesk owner (name or e-mail) → user id in the first chat, e.g. U05PEDRO (was slack_ids).",
    )
    lookup_by_email: bool = Field(True, description="Find owners in the chat by e-mail (Slack: users.lookupByEmail).")
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description='Named groups of chat user ids, e.g. sales = ["U07ANA"] (charters name them).'
    )


class OutboxSection(Section):
    """How side effects that failed are tried again, and when people hear about it."""

    backoff_seconds: float = Field(60, gt=0, description="First wait after a transient failure (doubles, with jitter).")
    backoff_max_seconds: float = Field(1800, gt=0, description="Longest wait between two tries.")
    settle_seconds: float = Field(
        120, ge=0, description="A write of unknown outcome is looked for by its key this long before it is resent."
    )
    max_age_hours: float = Field(
        48, gt=0, description="An entry still not done after this long is escalated (failed, reported, leads told)."
    )
    long_pending_hours: float = Field(4, gt=0, description="Pending longer than this: listed in the daily report.")


class ReportSection(Section):
    channel: str | None = Field(None, description="Where `hygiene report --post` posts (name or id).")
    leads: list[str] = Field(
        default_factory=list,
        description="Chat user ids (first chat) of the support leads told (DM, once) about failed side effects.",
    )
    channel_leads: dict[str, list[str]] = Field(
        default_factory=dict, description="Channel (name or id) → its leads' chat user ids, asked to pick a client."
    )
    department_channels: dict[str, str] = Field(
        default_factory=dict, description="Department → channel for tickets whose owner is not found in the chat."
    )


class ServeSection(Section):
    poll_seconds: float = Field(
        600, ge=30, description="`hygiene serve` runs the whole polling cycle this often, as the safety net."
    )
    health_file: Path | None = Field(None, description="Where `hygiene serve` writes its health (JSON), if anywhere.")


class FeedbackSection(Section):
    min_precision: float = Field(
        0.5, ge=0, le=1, description='`hygiene stats` suggests mode = "report" for a rule and channel under this.'
    )
    min_labels: int = Field(5, ge=1, description="Labels a rule and channel need before a suggestion is made.")


class Config(Section):
    hygiene: HygieneSection = Field(default_factory=HygieneSection)
    chat: SkipValidation[list[ChatSettings]] = Field(default_factory=list)
    """Validated by :func:`parse` against each entry's kind (connectors own their settings)."""
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """Deprecations found while reading the file (``hygiene check-config`` shows them)."""
        return self._notes

    helpdesk: SkipValidation[HelpdeskSettings] = Field(default_factory=HelpdeskSettings)
    """The helpdesk kind's own settings, validated by :func:`parse` against that kind's model."""
    policy: PolicySection = Field(default_factory=PolicySection)
    clients: ClientsSection = Field(default_factory=ClientsSection)
    calendar: CalendarSection = Field(default_factory=CalendarSection)
    calendars: dict[str, CalendarSection] = Field(default_factory=dict)
    sla: list[SlaPolicy] = Field(default_factory=list)
    people: PeopleSection = Field(default_factory=PeopleSection)
    report: ReportSection = Field(default_factory=ReportSection)
    outbox: OutboxSection = Field(default_factory=OutboxSection)
    serve: ServeSection = Field(default_factory=ServeSection)
    feedback: FeedbackSection = Field(default_factory=FeedbackSection)
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    charters: dict[str, Charter] = Field(default_factory=dict)
    """Channel charters by channel name (:mod:`hygiene.charters`)."""

    @property
    def store_path(self) -> Path:
        return self.hygiene.state_dir / "hygiene.db"

    @property
    def lock_path(self) -> Path:
        return self.hygiene.state_dir / "hygiene.lock"

    @property
    def chats(self) -> list[ChatSettings]:
        return list(self.chat)

    def chat_named(self, source: str) -> ChatSettings:
        return next(chat for chat in self.chat if chat.source == source)

    @property
    def charter_book(self) -> CharterBook:
        """The charters and the people groups they name, as rules see them."""
        return CharterBook({name.lstrip("#"): c for name, c in self.charters.items()}, self.people.groups)

    @property
    def watched_channels(self) -> list[str]:
        """Every channel of every chat, as written in the config."""
        return [channel for chat in self.chat for channel in chat.channels]


def secret_env_names(config: Config | None = None) -> list[str]:
    """The environment variables that hold secrets: the config's ``*_env`` keys, or every kind's defaults."""
    if config is not None:
        chats = [env for chat in config.chat for env in chat.secret_envs()]
    else:
        chats = [env for kind in chat_kinds().values() for env in _default_envs(kind.settings)]
    if config is not None:
        desk = config.helpdesk.secret_envs()
    else:
        desk = [env for kind in helpdesk_kinds().values() for env in _default_envs(kind.settings)]
    return [*chats, *desk]


def _default_envs(model: type[Section]) -> list[str]:
    return [str(field.default) for name, field in model.model_fields.items() if name.endswith("_env")]


def mask_env_secrets(config: Config | None = None) -> None:
    """Mask the values of those variables in every log line and error, from the start of a command."""
    register_secrets(os.environ.get(name, "").strip() for name in secret_env_names(config))


def key_path(loc: tuple[int | str, ...]) -> str:
    """``("slack", "channels", 2)`` → ``slack.channels[2]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("function-after", "function-before") and not str(part).startswith("function"):
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def describe_errors(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[str]:
    problems = []
    for error in exc.errors():
        path = key_path(prefix + tuple(error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{path}: {message}")
    return problems


def resolve_path(path: str | Path | None) -> Path:
    return Path(path or os.environ.get("HYGIENE_CONFIG") or DEFAULT_PATH)


def parse(data: dict[str, Any], base_dir: Path | None = None, *, offline: bool = False) -> Config:
    """Validate a parsed TOML document; ``offline`` for commands that never read chat channels."""
    rest = {key: value for key, value in data.items() if key != "helpdesk"}
    problems: list[str] = []
    try:
        rest["helpdesk"] = parse_helpdesk(data.get("helpdesk", {}))
    except ConfigError as exc:
        problems += exc.problems
    chats = _chats(rest, problems, offline)
    try:
        config = Config.model_validate(rest)
    except ValidationError as exc:
        problems.extend(describe_errors(exc))
    else:
        problems += _charter_problems(config, chats)
    if problems:
        raise ConfigError(problems)
    config.chat = chats
    if "slack" in data:
        config.notes.append(
            '[slack] is read as a [[chat]] entry of kind "slack" named "slack"; it keeps working, and'
            " [[chat]] is the form that lets one config watch several chats"
        )
    if base_dir is not None:
        config = _anchor_paths(config, base_dir)
    return config


def _charter_problems(config: Config, chats: list[ChatSettings]) -> list[str]:
    """Charters naming unwatched channels or unknown groups (a name is checked only against watched names)."""
    watched = [channel.lstrip("#") for chat in chats for channel in chat.channels]
    if any(is_channel_id(channel) for channel in watched):
        watched = []  # an id there could be the charter's channel: the online check resolves names
    return charter_problems(config.charters, config.people.groups, watched)


def parse_helpdesk(raw: Any) -> HelpdeskSettings:
    """``[helpdesk]`` validated by its kind's own settings model; problems keep the ``helpdesk.`` key path."""
    kind = raw.get("kind", "none") if isinstance(raw, dict) else "none"
    kinds = helpdesk_kinds()
    if kind != "none" and (not isinstance(kind, str) or kind not in kinds):
        known = ", ".join(sorted([*kinds, "none"]))
        raise ConfigError(f"helpdesk.kind: unknown helpdesk {kind!r} (known: {known})")
    model = kinds[kind].settings if kind != "none" else HelpdeskSettings
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, ("helpdesk",))) from None


def _chats(data: dict[str, Any], problems: list[str], offline: bool) -> list[ChatSettings]:
    """The ``[[chat]]`` entries (and the older ``[slack]`` section), each validated by its kind's
    own settings model, errors named by key path (``chat[1].channels``, ``slack.rescan_hours``)."""
    entries: list[tuple[str, Any]] = [(f"chat[{i}]", raw) for i, raw in enumerate(_as_list(data.pop("chat", [])))]
    if "slack" in data:
        legacy = data.pop("slack")
        entries.insert(0, ("slack", {"kind": "slack", **legacy} if isinstance(legacy, dict) else legacy))
    if not entries and not offline:
        problems.append('chat: no chat to watch: add a [[chat]] entry (kind = "slack", channels = [...])')
    chats = [chat for path, raw in entries if (chat := _chat(path, raw, problems, offline)) is not None]
    sources = [chat.source for chat in chats]
    for source in sorted({s for s in sources if sources.count(s) > 1}):
        problems.append(f'chat: two chats are named "{source}": give each its own name (name = "...")')
    return chats


def _chat(path: str, raw: Any, problems: list[str], offline: bool) -> ChatSettings | None:
    prefix: tuple[str | int, ...] = ("chat", int(path[5:-1])) if path.startswith("chat[") else (path,)
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a table of settings")
        return None
    kinds = chat_kinds()
    if raw.get("kind") not in kinds:
        problems.append(f"{path}.kind: unknown chat {raw.get('kind')!r} (known: {', '.join(kinds)})")
        return None
    try:
        chat = kinds[raw["kind"]].settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(describe_errors(exc, prefix))
        return None
    if not offline and "channels" not in raw:
        problems.append(f"{path}.channels: required key is missing")
    elif not offline and not chat.channels:
        problems.append(f"{path}.channels: name at least one channel to watch")
    chat.key_path = path
    return chat


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def load(path: str | Path | None = None, *, offline: bool = False) -> Config:
    """Read and validate the config file; relative paths in it are relative to the file.

    ``offline`` (audit, explain, report, rules, db) does not insist on ``[slack] channels``.
    """
    resolved = resolve_path(path)
    try:
        raw = read_text(resolved)
    except FileNotFoundError:
        raise ConfigError(
            f"{resolved}: config file not found (pass --config, set HYGIENE_CONFIG, or copy config.example.toml)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{resolved}: is a folder; pass the config file itself with --config") from None
    except TextFileError as exc:
        raise ConfigError(str(exc)) from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{resolved}: not valid TOML: {exc}") from None
    config = parse(data, resolved.resolve().parent, offline=offline)
    mask_env_secrets(config)
    return config


def _anchor_paths(config: Config, base_dir: Path) -> Config:
    state_dir = config.hygiene.state_dir
    if not state_dir.is_absolute():
        config.hygiene.state_dir = base_dir / state_dir
    desk_path = getattr(config.helpdesk, "path", None)
    if isinstance(desk_path, Path) and not desk_path.is_absolute():
        config.helpdesk = config.helpdesk.model_copy(update={"path": base_dir / desk_path})
    return config
