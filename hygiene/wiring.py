"""Building the parts from a config: the one place that knows every connector and rule."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from slack_sdk import WebClient

from connectors.files import FilesHelpdesk
from connectors.gclick import GClickHelpdesk
from connectors.slack import CallBudget, SlackChat
from connectors.zendesk import ZendeskHelpdesk
from hygiene.clock import Clock
from hygiene.config import Config, describe_errors
from hygiene.engine import Engine
from hygiene.errors import ConfigError
from hygiene.logs import register_secrets
from hygiene.ports import Helpdesk
from hygiene.rulebase import Rule, TicketRule
from hygiene.store import Store
from rules import CUSTOM_CODE, REGISTRY, CustomSettings, custom_rule_class, unknown_phrase_keys

AnyRule = Rule | TicketRule


def build_rules(
    settings: Mapping[str, Mapping[str, Any]], registry: Mapping[str, type[AnyRule]] = REGISTRY
) -> list[AnyRule]:
    """Every registered rule, plus the TOML's custom HY9xx rules, with settings validated by key path."""
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
        rules.append(rule_class(rule_settings))
    if problems:
        raise ConfigError(problems)
    return rules


def build_helpdesk(config: Config, clock: Clock | None = None) -> Helpdesk | None:
    """The configured helpdesk; its secrets come from the environment and are masked in logs."""
    section = config.helpdesk
    sleep = clock.sleep if clock else time.sleep
    common = {
        "retries": section.retries,
        "timeout": section.timeout_seconds,
        "sleep": sleep,
        "sleep_cap": section.max_sleep_per_cycle_seconds,
    }
    if section.kind == "files" and section.path is not None:
        return FilesHelpdesk(section.path, section.url_template)
    if section.kind == "gclick":
        client_id, secret = section.secret(section.client_id_env), section.secret(section.client_secret_env)
        register_secrets([secret])
        today = (lambda: clock.now().astimezone(ZoneInfo(config.hygiene.timezone)).date()) if clock else date.today
        return GClickHelpdesk(
            section.base_url or "https://api.gclick.com.br",
            client_id,
            secret,
            today=today,
            category=section.category,
            department_ids=section.department_ids,
            owner_ids=section.owner_ids,
            create_department_id=section.create_department_id,
            status_map=dict(section.status_map),
            page_size=section.page_size,
            window_months=section.window_months,
            detail_calls_per_cycle=section.detail_calls_per_cycle,
            max_retry_after=section.max_retry_after_seconds,
            url_template=section.url_template or "https://app.gclick.com.br/tarefas/{id}",
            **common,  # type: ignore[arg-type]
        )
    if section.kind == "zendesk":
        token = section.secret(section.token_env)
        register_secrets([token])
        base = section.base_url or f"https://{section.subdomain}.zendesk.com"
        return ZendeskHelpdesk(
            base,
            section.email or "",
            token,
            now=clock.now if clock else (lambda: datetime.now(UTC)),
            status_map=dict(section.status_map),
            max_retry_after=section.max_retry_after_seconds,
            agent_url=section.url_template,
            **common,  # type: ignore[arg-type]
        )
    return None


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
    rules = build_rules(config.rules)
    chat = build_chat(config, store, clock, token)
    return Engine(config, store, chat, rules, clock, helpdesk=build_helpdesk(config, clock))


def message_rules(rules: Sequence[AnyRule]) -> list[Rule]:
    return [rule for rule in rules if isinstance(rule, Rule)]


def ticket_rules(rules: Sequence[AnyRule]) -> list[TicketRule]:
    return [rule for rule in rules if isinstance(rule, TicketRule)]
