"""Building the parts from a config: the one place that knows every connector and rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from slack_sdk import WebClient

from connectors.slack import CHANNEL_ID, CallBudget, SlackChat
from hygiene.clock import Clock
from hygiene.config import Config, describe_errors
from hygiene.engine import Engine
from hygiene.errors import ConfigError
from hygiene.kinds import HelpdeskBuild, helpdesk_kinds
from hygiene.logs import register_secrets
from hygiene.ports import Helpdesk
from hygiene.rulebase import Rule, RuleSettings, TicketRule
from hygiene.store import Store
from rules import CUSTOM_CODE, REGISTRY, CustomSettings, custom_rule_class, unknown_phrase_keys

AnyRule = Rule | TicketRule


def rules_for(config: Config | None) -> list[AnyRule]:
    """The rules a config sets up (the defaults without one), checked against its watched channels."""
    if config is None:
        return build_rules({})
    return build_rules(config.rules, watched=config.slack.channels)


def build_rules(
    settings: Mapping[str, Mapping[str, Any]],
    registry: Mapping[str, type[AnyRule]] = REGISTRY,
    watched: Sequence[str] | None = None,
) -> list[AnyRule]:
    """Every registered rule, plus the TOML's custom HY9xx rules, with settings validated by key path.

    With ``watched`` (``slack.channels``), chat rules' channel settings that can only be wrong are refused.
    """
    problems: list[str] = []
    classes: dict[str, type[AnyRule]] = dict(registry)
    for code, raw in settings.items():
        if code in classes:
            continue
        if not CUSTOM_CODE.match(code):
            known = ", ".join(sorted(registry))
            problems.append(f"rules.{code}: unknown rule (known: {known}; HY900–HY999 are for custom rules)")
            continue
        try:
            classes[code] = custom_rule_class(code, CustomSettings.model_validate(raw))
        except ValidationError as exc:
            problems.extend(describe_errors(exc, ("rules", code)))
    rules: list[AnyRule] = []
    for code, rule_class in classes.items():
        try:
            rule_settings = rule_class.Settings.model_validate(
                {"mode": rule_class.default_mode, **settings.get(code, {})}
            )
        except ValidationError as exc:
            if not CUSTOM_CODE.match(code):
                problems.extend(describe_errors(exc, ("rules", code)))
            continue
        for channel in rule_settings.channels:
            try:
                rule_settings.for_channel(channel)
            except ValidationError as exc:
                problems.extend(describe_errors(exc, ("rules", code, "channels", channel)))
        problems.extend(unknown_phrase_keys(code, rule_class.phrase_lists, rule_settings))
        if watched and issubclass(rule_class, Rule):
            problems.extend(unwatched_channels(code, rule_settings, watched))
        rules.append(rule_class(rule_settings))
    if problems:
        raise ConfigError(problems)
    return rules


def unwatched_channels(code: str, settings: RuleSettings, watched: Sequence[str]) -> list[str]:
    """Key paths of a chat rule's channel settings that name no channel in ``slack.channels``.

    Offline, a name is surely wrong only when ``slack.channels`` lists no ids (an id there could be
    that name), and an id only when it lists no names; the online check resolves the rest.
    """
    named = [(f"rules.{code}.channels.{name}", name) for name in settings.channels]
    if isinstance(settings, CustomSettings):
        named += [(f"rules.{code}.only_channels[{i}]", name) for i, name in enumerate(settings.only_channels)]
    kinds = {_is_id(item) for item in watched}
    return [
        f'{path}: "{name}" is not in slack.channels (only watched channels are judged)'
        for path, name in named
        if name not in watched and kinds == {_is_id(name)}
    ]


def channel_settings(config: Config, rules: Sequence[AnyRule]) -> list[tuple[str, str]]:
    """(key path, channel) of every channel setting besides ``slack.channels``, to resolve online."""
    found = [(f"policy.exempt_channels[{i}]", name) for i, name in enumerate(config.policy.exempt_channels)]
    if config.report.channel:
        found.append(("report.channel", config.report.channel.lstrip("#")))  # posts strip the "#"
    found += [(f"report.department_channels.{k}", v.lstrip("#")) for k, v in config.report.department_channels.items()]
    for rule in message_rules(rules):
        found += [(f"rules.{rule.code}.channels.{name}", name) for name in rule.settings.channels]
        if isinstance(rule.settings, CustomSettings):
            found += [(f"rules.{rule.code}.only_channels[{i}]", c) for i, c in enumerate(rule.settings.only_channels)]
    return found


def _is_id(channel: str) -> bool:
    return bool(CHANNEL_ID.match(channel))


def build_helpdesk(config: Config, clock: Clock | None = None) -> Helpdesk | None:
    """The configured helpdesk, built by its registered kind (None for kind "none").

    Each kind reads its secrets from the environment and masks them in logs.
    """
    kind = helpdesk_kinds().get(config.helpdesk.kind)
    if kind is None:
        return None
    return kind.build(config.helpdesk, HelpdeskBuild(clock=clock, zone_name=config.hygiene.timezone))


def build_chat(config: Config, store: Store, clock: Clock, token: str | None = None) -> SlackChat:
    token = token or config.slack_token()
    register_secrets([token])
    client = WebClient(
        token=token,
        base_url=config.slack.base_url,
        timeout=config.slack.timeout_seconds,  # type: ignore[arg-type]  # urllib takes fractions of a second
        retry_handlers=[],
    )
    return SlackChat(
        client,
        clock,
        CallBudget(config.slack.call_budget()),
        retries=config.slack.retries,
        max_retry_after=config.slack.max_retry_after_seconds,
        page_size=config.slack.history_page_size(),
        users=store.cached_users(),
        sleep_cap=config.slack.max_sleep_per_cycle_seconds,
    )


def build_engine(config: Config, store: Store, clock: Clock, token: str | None = None) -> Engine:
    rules = rules_for(config)
    chat = build_chat(config, store, clock, token)
    return Engine(config, store, chat, rules, clock, helpdesk=build_helpdesk(config, clock))


def message_rules(rules: Sequence[AnyRule]) -> list[Rule]:
    return [rule for rule in rules if isinstance(rule, Rule)]


def ticket_rules(rules: Sequence[AnyRule]) -> list[TicketRule]:
    return [rule for rule in rules if isinstance(rule, TicketRule)]
