"""Building the parts from a config: the one place that knows every connector and rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from hygiene.clock import Clock
from hygiene.config import Config, describe_errors
from hygiene.cycle import CycleReport, Engine
from hygiene.errors import ConfigError
from hygiene.kinds import ChatBuild, HelpdeskBuild, chat_kinds, helpdesk_kinds, is_channel_id
from hygiene.ports import Chat, Helpdesk
from hygiene.ports.events import ChatEvents
from hygiene.rulebase import Rule, RuleSettings, TicketRule
from hygiene.store import Store
from rules import CUSTOM_CODE, REGISTRY, CustomSettings, custom_rule_class, unknown_phrase_keys, vocabularies

AnyRule = Rule | TicketRule


def rules_for(config: Config | None) -> list[AnyRule]:
    """The rules a config sets up (the defaults without one), checked against its watched channels."""
    if config is None:
        return build_rules({})
    check_vocabularies(config)
    return build_rules(config.rules, watched=config.watched_channels)


def check_vocabularies(config: Config) -> None:
    """Every charter's ``elsewhere`` vocabulary is one hygiene ships (a ConfigError names the key)."""
    known = vocabularies()
    problems = [
        f"charters.{channel}.elsewhere[{index}].vocabulary: unknown vocabulary {kind.vocabulary!r} "
        f"(known: {', '.join(sorted(known))})"
        for channel, charter in config.charters.items()
        for index, kind in enumerate(charter.elsewhere)
        if kind.vocabulary is not None and kind.vocabulary not in known
    ]
    if problems:
        raise ConfigError(problems)


def build_rules(
    settings: Mapping[str, Mapping[str, Any]],
    registry: Mapping[str, type[AnyRule]] = REGISTRY,
    watched: Sequence[str] | None = None,
) -> list[AnyRule]:
    """Every registered rule, plus the TOML's custom HY9xx rules, with settings validated by key path.

    With ``watched`` (every chat's ``channels``), chat rules' channel settings that can only be wrong are refused.
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
    """Key paths of a chat rule's channel settings that name no watched channel.

    Offline, a name is surely wrong only when the watched channels list no ids (an id there could be
    that name), and an id only when they list no names; the online check resolves the rest.
    """
    named = [(f"rules.{code}.channels.{name}", name) for name in settings.channels]
    if isinstance(settings, CustomSettings):
        named += [(f"rules.{code}.only_channels[{i}]", name) for i, name in enumerate(settings.only_channels)]
    kinds = {is_channel_id(item) for item in watched}
    return [
        f'{path}: "{name}" is not a watched channel (only watched channels are judged)'
        for path, name in named
        if name not in watched and kinds == {is_channel_id(name)}
    ]


def channel_settings(config: Config, rules: Sequence[AnyRule]) -> list[tuple[str, str]]:
    """(key path, channel) of every channel setting besides the chats' own channels, to resolve online."""
    found = [(f"policy.exempt_channels[{i}]", name) for i, name in enumerate(config.policy.exempt_channels)]
    if config.report.channel:
        found.append(("report.channel", config.report.channel.lstrip("#")))  # posts strip the "#"
    found += [(f"report.department_channels.{k}", v.lstrip("#")) for k, v in config.report.department_channels.items()]
    for rule in message_rules(rules):
        found += [(f"rules.{rule.code}.channels.{name}", name) for name in rule.settings.channels]
        if isinstance(rule.settings, CustomSettings):
            found += [(f"rules.{rule.code}.only_channels[{i}]", c) for i, c in enumerate(rule.settings.only_channels)]
    return found


def build_helpdesk(config: Config, clock: Clock | None = None) -> Helpdesk | None:
    """The configured helpdesk, built by its registered kind (None for kind "none").

    Each kind reads its secrets from the environment and masks them in logs.
    """
    kind = helpdesk_kinds().get(config.helpdesk.kind)
    if kind is None:
        return None
    return kind.build(config.helpdesk, HelpdeskBuild(clock=clock, zone_name=config.hygiene.timezone))


def build_chats(config: Config, store: Store, clock: Clock, token: str | None = None) -> list[Chat]:
    """Every configured chat, built by its kind; ``token`` (the sandbox's) replaces the environment's."""
    kinds = chat_kinds()
    chats: list[Chat] = []
    for settings in config.chats:
        users = store.people.cached_users(settings.source)
        context = ChatBuild(clock=clock, zone_name=config.hygiene.timezone, users=users, token=token)
        chats.append(kinds[settings.kind].build(settings, context))
    return chats


def build_chat(config: Config, store: Store, clock: Clock, token: str | None = None) -> Chat:
    """The first configured chat (the one people are told in: reports, owners' DMs)."""
    chats = build_chats(config, store, clock, token)
    if not chats:
        raise ConfigError('chat: no chat is configured: add a [[chat]] entry (kind = "slack", channels = [...])')
    return chats[0]


def render_markup(config: Config | None) -> Callable[[str], str]:
    """How the first configured chat's markup reads as plain text (``explain`` on a pasted message)."""
    kinds = chat_kinds()
    kind = config.chats[0].kind if config and config.chats else next(iter(kinds), None)
    return kinds[kind].render if kind in kinds else (lambda markup: markup)


def build_engine(config: Config, store: Store, clock: Clock, token: str | None = None) -> Engine:
    rules = rules_for(config)
    chats = build_chats(config, store, clock, token)
    return Engine(config, store, chats, rules, clock, helpdesk=build_helpdesk(config, clock))


def run_cycle(config: Config, clock: Clock, token: str | None = None) -> CycleReport:
    """One cycle on the config's store, opened for it and closed after (even when the cycle fails)."""
    store = Store.open(config.store_path)
    try:
        return build_engine(config, store, clock, token).run_cycle()
    finally:
        store.close()


def message_rules(rules: Sequence[AnyRule]) -> list[Rule]:
    return [rule for rule in rules if isinstance(rule, Rule)]


def ticket_rules(rules: Sequence[AnyRule]) -> list[TicketRule]:
    return [rule for rule in rules if isinstance(rule, TicketRule)]


def build_events(config: Config, engine: Engine, clock: Clock, app_token: str | None = None) -> list[ChatEvents]:
    """The push connection of every configured chat whose kind can push (``hygiene serve``);
    ``app_token`` (the sandbox's) replaces the environment's."""
    kinds = chat_kinds()
    connections: list[ChatEvents] = []
    for settings, chat in zip(config.chats, engine.chats, strict=True):
        kind = kinds[settings.kind]
        if kind.events is not None and chat.capabilities.push:
            context = ChatBuild(clock=clock, zone_name=config.hygiene.timezone, app_token=app_token)
            connections.append(kind.events(settings, chat, context))
    if not connections:
        raise ConfigError("chat: no configured chat can push events (hygiene serve needs one; use hygiene watch)")
    return connections
