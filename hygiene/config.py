"""The one TOML file support leads edit, validated by pydantic.

Unknown keys are rejected, every problem is reported with its key path (``slack.channels[2]: …``)
and secrets are read only from the environment. Rule settings are validated against each rule's
own model when the rules are built (see :mod:`hygiene.wiring`); ``[helpdesk]`` is validated
against its kind's own settings model, found in the registry (:mod:`hygiene.kinds`).
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, ValidationError, field_validator, model_validator

from hygiene.business_time import DAY_NAMES, BusinessCalendar
from hygiene.errors import ConfigError
from hygiene.kinds import helpdesk_kinds
from hygiene.logs import looks_like_secret, register_secrets
from hygiene.settings import HelpdeskSettings
from hygiene.textfiles import TextFileError, read_text

DEFAULT_PATH = "hygiene.toml"
SECRET_KEYS = {"token", "bot_token", "api_token", "password", "client_secret", "secret"}

DEFAULT_BUDGET = {
    "conversations.history": 40,
    "conversations.replies": 40,
    "conversations.list": 5,
    "users.info": 50,
    "chat.postMessage": 40,
    "chat.postEphemeral": 40,
    "chat.getPermalink": 40,
    "conversations.open": 20,
    "reactions.add": 20,
    "auth.test": 2,
    "users.lookupByEmail": 20,
}


def http_url(value: str | None) -> str | None:
    """An http(s) URL with a host, else a ValueError that says what one looks like."""
    if value is None:
        return value
    parts = urlsplit(value.replace("{id}", "1"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not a URL: write it as https://host/path")
    return value


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def env_name(value: str) -> str:
    """A ``*_env`` key names an environment variable; a pasted secret is refused and never echoed."""
    if not ENV_NAME.fullmatch(value) or looks_like_secret(value):
        raise ValueError(
            "this is not the name of an environment variable (it may be the secret itself: the value is not "
            "shown); put the secret in the environment, e.g. export SLACK_BOT_TOKEN=…, and name the variable here"
        )
    return value


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_secrets_in_file(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in SECRET_KEYS:
                    raise ValueError(
                        f"'{key}' is a secret: set it in the environment (see *_env keys), not in the file"
                    )
        return data


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


# Slack's 2025 limits for apps distributed commercially outside the Marketplace:
# conversations.history and conversations.replies at 1 request a minute, 15 messages each.
UNLISTED_BUDGET = {"conversations.history": 1, "conversations.replies": 1}


class SlackSection(Section):
    token_env: str = "SLACK_BOT_TOKEN"
    base_url: str = "https://slack.com/api/"
    channels: list[str] = Field(min_length=1)
    rescan_hours: float = Field(24, gt=0, le=24 * 14)
    backfill_hours: float = Field(24, gt=0, le=24 * 90)
    nudge_max_age_minutes: float = Field(240, gt=0)
    page_size: int = Field(200, ge=1, le=999)
    timeout_seconds: float = Field(15, gt=0)
    retries: int = Field(3, ge=0, le=10)
    max_retry_after_seconds: float = Field(10, ge=0)
    max_sleep_per_cycle_seconds: float = Field(
        60, ge=0, description="Backoff and Retry-After waits in one cycle stop here; the rest waits for the next."
    )
    message_retention_days: float = Field(14, gt=0)
    budget: dict[str, int] = Field(default_factory=dict)
    distribution: Literal["internal", "marketplace", "unlisted"] = Field(
        "internal",
        description=(
            "How the Slack app is distributed. 'unlisted' (commercially distributed outside the "
            "Marketplace) gets 1 history/replies call a minute and 15 messages a call: budgets follow."
        ),
    )

    _url = field_validator("base_url")(http_url)
    _env = field_validator("token_env")(env_name)

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: list[str]) -> list[str]:
        cleaned = [item.strip().lstrip("#") for item in value]
        for index, item in enumerate(cleaned):
            if not item:
                raise ValueError(f"item {index} is empty")
        return cleaned

    @field_validator("budget")
    @classmethod
    def _known_methods(cls, value: dict[str, int]) -> dict[str, int]:
        for method, calls in value.items():
            if method not in DEFAULT_BUDGET:
                raise ValueError(f"unknown Slack method {method!r} (known: {', '.join(sorted(DEFAULT_BUDGET))})")
            if calls < 0:
                raise ValueError(f"{method}: a budget cannot be negative")
            if calls == 0:
                raise ValueError(
                    f"{method}: a budget of 0 means hygiene can never call it, so that part of every cycle"
                    " never happens (channels unread, nothing posted); give it at least 1"
                )
        return value

    def call_budget(self) -> dict[str, int]:
        """Calls per method per cycle: the defaults, the distribution's limits, then ``budget``."""
        limits = dict(DEFAULT_BUDGET)
        if self.distribution == "unlisted":
            limits |= UNLISTED_BUDGET
        return limits | self.budget

    def history_page_size(self) -> int:
        return min(self.page_size, 15) if self.distribution == "unlisted" else self.page_size


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
    slack_ids: dict[str, str] = Field(
        default_factory=dict, description="Helpdesk owner (name or e-mail) → Slack user id, e.g. U05PEDRO."
    )
    lookup_by_email: bool = Field(True, description="Find owners in Slack by e-mail (users.lookupByEmail).")


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
        default_factory=list, description="Slack ids of the support leads told (DM, once) about failed side effects."
    )
    channel_leads: dict[str, list[str]] = Field(
        default_factory=dict, description="Channel (name or id) → its leads' Slack ids, asked to pick a client."
    )
    department_channels: dict[str, str] = Field(
        default_factory=dict, description="Department → channel for tickets whose owner is not found in Slack."
    )


class Config(Section):
    hygiene: HygieneSection = Field(default_factory=HygieneSection)
    slack: SlackSection
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
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def store_path(self) -> Path:
        return self.hygiene.state_dir / "hygiene.db"

    @property
    def lock_path(self) -> Path:
        return self.hygiene.state_dir / "hygiene.lock"

    def slack_token(self) -> str:
        token = os.environ.get(self.slack.token_env, "").strip()
        if not token:
            raise ConfigError(f"slack.token_env: environment variable {self.slack.token_env} is not set")
        return token


class OfflineSlackSection(SlackSection):
    """``[slack]`` for commands that never talk to Slack (audit, explain, report, rules, db): channels optional."""

    channels: list[str] = Field(default_factory=list)


class OfflineConfig(Config):
    """The config as read by offline commands: the same checks, but no channels needed."""

    slack: OfflineSlackSection = Field(default_factory=OfflineSlackSection)


def secret_env_names(config: Config | None = None) -> list[str]:
    """The environment variables that hold secrets: the config's ``*_env`` keys, or their defaults."""
    slack = config.slack if config else OfflineSlackSection()
    return [slack.token_env, *(config.helpdesk.secret_envs() if config else _default_helpdesk_envs())]


def _default_helpdesk_envs() -> list[str]:
    """Without a config: the default ``*_env`` of every registered helpdesk kind."""
    return [
        str(field.default)
        for kind in helpdesk_kinds().values()
        for name, field in kind.settings.model_fields.items()
        if name.endswith("_env")
    ]


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


def describe_errors(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[str]:
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
    """Validate a parsed TOML document; ``offline`` for commands that never read Slack channels."""
    model = OfflineConfig if offline else Config
    problems: list[str] = []
    rest = {key: value for key, value in data.items() if key != "helpdesk"}
    try:
        rest["helpdesk"] = parse_helpdesk(data.get("helpdesk", {}))
    except ConfigError as exc:
        problems += exc.problems
    try:
        config = model.model_validate(rest)
    except ValidationError as exc:
        problems += describe_errors(exc)
    if problems:
        raise ConfigError(problems)
    if base_dir is not None:
        config = _anchor_paths(config, base_dir)
    return config


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
