"""Config: validated by pydantic, every problem named by its key path, secrets only from the env."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.chat.slack.settings import SlackSettings
from hygiene import config as config_module
from hygiene.charters import Charter, Elsewhere, StatusDuty
from hygiene.clock import FrozenClock
from hygiene.errors import ConfigError
from hygiene.kinds import chat_kinds, helpdesk_kinds
from hygiene.store import Store
from hygiene.wiring import build_chats, build_rules, rules_for

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "hygiene.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        rules_for(config_module.load(path))
    return caught.value.problems


def test_the_example_config_is_valid() -> None:
    config = config_module.load(EXAMPLE)
    rules = build_rules(config.rules)
    assert config.chats[0].channels[0] == "dia-a-dia" and config.chats[0].source == "slack"
    assert {rule.code for rule in rules} >= {"HY101", "HY105"}
    assert config.hygiene.state_dir == EXAMPLE.parent / ".hygiene", "relative paths are relative to the file"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    assert problems_of(tmp_path, '[slack]\nchannels = ["a"]\nchanels = ["b"]\n') == ["slack.chanels: unknown key"]


def test_wrong_type_is_named(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, '[slack]\nchannels = ["a"]\nrescan_hours = "yesterday"\n')
    assert problems == ["slack.rescan_hours: Input should be a valid number, unable to parse string as a number"]


def test_list_items_are_named_by_index(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, '[slack]\nchannels = ["fiscal", 3]\n')
    assert problems == ["slack.channels[1]: Input should be a valid string"]


def test_missing_section_is_named(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "[hygiene]\ndry_run = true\n") == [
        'chat: no chat to watch: add a [[chat]] entry (kind = "slack", channels = [...])'
    ]


def test_chats_are_checked_by_their_kind_and_named_by_position(tmp_path: Path) -> None:
    text = (
        '[[chat]]\nkind = "slack"\nchannels = ["a"]\n[[chat]]\nkind = "irc"\n'
        '[[chat]]\nkind = "slack"\nchannels = ["b"]\nrescan = 2\n'
    )
    assert problems_of(tmp_path, text) == [
        f"chat[1].kind: unknown chat 'irc' (known: {', '.join(chat_kinds())})",
        "chat[2].rescan: unknown key",
    ]


def test_two_chats_need_two_names(tmp_path: Path) -> None:
    text = '[[chat]]\nkind = "slack"\nchannels = ["a"]\n[[chat]]\nkind = "slack"\nchannels = ["b"]\n'
    assert problems_of(tmp_path, text) == ['chat: two chats are named "slack": give each its own name (name = "...")']
    named = text.replace('channels = ["b"]', 'name = "acme"\nchannels = ["b"]')
    path = tmp_path / "named.toml"
    path.write_text(named, encoding="utf-8")
    assert [chat.source for chat in config_module.load(path).chats] == ["slack", "acme"]


def test_the_older_slack_section_still_works_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "hygiene.toml"
    path.write_text('[slack]\nchannels = ["a"]\n', encoding="utf-8")
    config = config_module.load(path)
    assert [(chat.kind, chat.source, chat.key_path) for chat in config.chats] == [("slack", "slack", "slack")]
    assert config.notes and "[[chat]]" in config.notes[0]
    both = '[slack]\nchannels = ["a"]\n[[chat]]\nkind = "slack"\nchannels = ["b"]\n'
    assert problems_of(tmp_path, both) == ['chat: two chats are named "slack": give each its own name (name = "...")']


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "[slack]\nchannels = []\n[policy]\ncooldown_minutes = -1\n")
    assert len(problems) == 2
    assert problems[0].startswith("slack.channels: ")
    assert problems[1].startswith("policy.cooldown_minutes: ")


def test_rule_settings_are_validated_with_their_key_path(tmp_path: Path) -> None:
    text = '[slack]\nchannels = ["a"]\n[rules.HY101]\nmin_score = 2\nmood = "x"\n[rules.HY777]\nmode = "off"\n'
    problems = problems_of(tmp_path, text)
    assert problems[0].startswith("rules.HY777: unknown rule")
    assert "rules.HY101.min_score: Input should be less than or equal to 1" in problems
    assert "rules.HY101.mood: unknown key" in problems


def test_per_channel_overrides_are_validated(tmp_path: Path) -> None:
    text = '[slack]\nchannels = ["a", "fiscal"]\n[rules.HY105.channels.fiscal]\nmode = "loud"\n'
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith("rules.HY105.channels.fiscal.mode: Input should be ")


def test_secrets_are_refused_in_the_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, '[slack]\nchannels = ["a"]\ntoken = "xoxb-123"\n')
    assert problem.startswith("slack: 'token' is a secret: set it in the environment")
    assert "xoxb-123" not in problem


def test_missing_token_names_the_variable(tmp_path: Path) -> None:
    config = config_module.parse({"slack": {"channels": ["a"]}})
    with pytest.raises(ConfigError) as caught:
        build_chats(config, Store.memory(), FrozenClock(datetime(2026, 11, 18, tzinfo=UTC)))
    assert caught.value.problems == ["slack.token_env: environment variable SLACK_BOT_TOKEN is not set"]
    second = config_module.parse({"chat": [{"kind": "slack", "channels": ["a"], "token_env": "OTHER_TOKEN"}]})
    with pytest.raises(ConfigError) as caught:
        build_chats(second, Store.memory(), FrozenClock(datetime(2026, 11, 18, tzinfo=UTC)))
    assert caught.value.problems == ["chat[0].token_env: environment variable OTHER_TOKEN is not set"]


def test_broken_toml_says_where(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "[slack\nchannels = 1\n")
    assert "not valid TOML" in problem and "line 1" in problem


def test_default_path_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_module.resolve_path(None) == Path("hygiene.toml")
    monkeypatch.setenv("HYGIENE_CONFIG", str(tmp_path / "x.toml"))
    assert config_module.resolve_path(None) == tmp_path / "x.toml"
    with pytest.raises(ConfigError) as caught:
        config_module.load(None)
    assert "config file not found" in caught.value.problems[0]


def test_unknown_timezone(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, '[hygiene]\ntimezone = "Mars/Olympus"\n[slack]\nchannels = ["a"]\n')
    assert problem == "hygiene.timezone: unknown time zone 'Mars/Olympus'"


def test_custom_rules_are_validated(tmp_path: Path) -> None:
    text = '[slack]\nchannels = ["a"]\n[rules.HY901]\nname = "Bad Name"\nmatch_patterns = ["(unclosed"]\n'
    problems = problems_of(tmp_path, text)
    assert "rules.HY901.name: String should match pattern '^[a-z0-9]+(-[a-z0-9]+)*$'" in problems
    assert any(p.startswith("rules.HY901.match_patterns: [0]: not a regular expression") for p in problems)
    assert "rules.HY901.says: required key is missing" in problems


def test_phrase_extensions_are_validated(tmp_path: Path) -> None:
    text = (
        '[slack]\nchannels = ["a"]\n[rules.HY101.phrases.pt]\nreqest = ["x"]\n'
        '[rules.HY101.phrases.fr]\nrequest = ["x"]\n[rules.HY102.phrases.en]\nstatus = ["(bad"]\n'
    )
    problems = problems_of(tmp_path, text)
    assert any(p.startswith("rules.HY101.phrases.pt.reqest: unknown phrase list") for p in problems)
    assert "rules.HY101.phrases.fr: unknown language (use pt or en)" in problems
    assert any(p.startswith("rules.HY102.phrases: en.status[0]: not a regular expression") for p in problems)


def test_unlisted_apps_get_slacks_lower_limits() -> None:
    config = config_module.parse({"slack": {"channels": ["a"], "distribution": "unlisted", "page_size": 200}})
    (slack,) = config.chats
    assert isinstance(slack, SlackSettings)
    assert slack.call_budget()["conversations.history"] == 1
    assert slack.call_budget()["conversations.replies"] == 1
    assert slack.history_page_size() == 15
    (internal,) = config_module.parse({"slack": {"channels": ["a"]}}).chats
    assert isinstance(internal, SlackSettings)
    assert internal.call_budget()["conversations.history"] == 40 and internal.history_page_size() == 200


def test_every_setting_is_in_the_example_config() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")

    def missing(model: type, prefix: str) -> list[str]:
        found = []
        for field_name, field in model.model_fields.items():  # type: ignore[attr-defined]
            name = field.alias or field_name  # the key as written (status.from)
            if hasattr(field.annotation, "model_fields"):
                found += missing(field.annotation, f"{prefix}{name}.")
            elif not re.search(rf"^\s*#?\s*\[*{re.escape(name)}\]*\s*(=|$)", text, re.MULTILINE) and not re.search(
                rf"^#?\s*\[+({re.escape(prefix + name)}|[\w.-]*\.{re.escape(name)}\]+)", text, re.MULTILINE
            ):
                found.append(prefix + name)
        return found

    assert missing(config_module.Config, "") == []
    for charter_model in (Charter, StatusDuty, Elsewhere):  # [charters.<channel>] and its tables
        assert missing(charter_model, "charters.") == [], charter_model.__name__
    for chat in chat_kinds().values():  # a [[chat]] holds the keys of its kind's own Settings
        assert missing(chat.settings, "chat.") == [], chat.name
    for kind in helpdesk_kinds().values():  # [helpdesk] holds the keys of the kind's own Settings
        assert missing(kind.settings, "helpdesk.") == [], kind.name


def test_a_key_of_another_helpdesk_kind_is_named(tmp_path: Path) -> None:
    text = '[slack]\nchannels = ["a"]\n[helpdesk]\nkind = "zendesk"\nsubdomain = "acme"\nemail = "a@b.c"\n'
    assert problems_of(tmp_path, text + 'category = "Solicitacao"\n') == ["helpdesk.category: unknown key"]


def test_an_unknown_helpdesk_kind_is_named_with_the_known_ones(tmp_path: Path) -> None:
    text = '[slack]\nchannels = ["a"]\n[helpdesk]\nkind = "jira"\n'
    assert problems_of(tmp_path, text) == [
        "helpdesk.kind: unknown helpdesk 'jira' (known: files, gclick, none, zendesk)"
    ]


def test_helpdesk_problems_come_with_the_rest(tmp_path: Path) -> None:
    text = '[slack]\nchannels = []\n[helpdesk]\nkind = "files"\n[policy]\ncooldown_minutes = -1\n'
    problems = problems_of(tmp_path, text)
    assert problems[0] == "helpdesk: helpdesk kind 'files' needs a path"
    assert [p.split(":")[0] for p in problems[1:]] == ["slack.channels", "policy.cooldown_minutes"]


def test_the_files_helpdesk_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "hygiene.toml"
    path.write_text('[slack]\nchannels = ["a"]\n[helpdesk]\nkind = "files"\npath = "t/tickets.json"\n')
    assert config_module.load(path).helpdesk.path == tmp_path / "t" / "tickets.json"  # type: ignore[attr-defined]


def test_a_calendar_without_workdays_is_refused(tmp_path: Path) -> None:
    text = '[slack]\nchannels = ["a"]\n[calendar]\nworkdays = []\n[calendars.plantao]\nworkdays = []\n'
    problems = problems_of(tmp_path, text)
    assert [p.split(":")[0] for p in problems] == ["calendar.workdays", "calendars.plantao.workdays"]
    assert "no working days" in problems[0]


def test_a_zero_budget_is_refused(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, '[slack]\nchannels = ["a"]\n[slack.budget]\n"conversations.history" = 0\n')
    assert problem.startswith("slack.budget: conversations.history: a budget of 0 means hygiene can never call it")


def test_channel_overrides_and_only_channels_must_be_watched(tmp_path: Path) -> None:
    text = (
        '[slack]\nchannels = ["fiscal", "dia-a-dia"]\n[rules.HY101.channels.random]\nmode = "off"\n'
        '[rules.HY101.channels.fiscal]\nmode = "auto"\n'
        '[rules.HY201.channels.Fiscal]\nmode = "off"\n'  # ticket rules: keyed by department, not channel
        '[rules.HY901]\nname = "x"\nmatch_phrases = ["y"]\nsays = "z"\nonly_channels = ["dia-a-dia", "suport"]\n'
    )
    assert sorted(problems_of(tmp_path, text)) == [
        'rules.HY101.channels.random: "random" is not a watched channel (only watched channels are judged)',
        'rules.HY901.only_channels[1]: "suport" is not a watched channel (only watched channels are judged)',
    ]


def test_offline_only_flags_channels_that_are_surely_unwatched() -> None:
    settings = {"HY101": {"channels": {"fiscal": {"mode": "off"}, "C0RANDOM1": {"mode": "off"}}}}
    build_rules(settings, watched=["C02FISCAL", "dia-a-dia"])  # "fiscal" may be C02FISCAL: online decides
    with pytest.raises(ConfigError) as caught:
        build_rules(settings, watched=["dia-a-dia"])
    assert [p.split(":")[0] for p in caught.value.problems] == ["rules.HY101.channels.fiscal"]


def test_patterns_re2_cannot_run_are_refused_by_key_path(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = (
        '[slack]\nchannels = ["a"]\n[rules.HY101.phrases.pt]\nrequest = ["ok", "(?<!nao )pedimos"]\n'
        '[rules.HY901]\nname = "x"\nsays = "y"\nmatch_patterns = ["(a)\\\\1"]\n'
    )
    problems = problems_of(tmp_path, text)
    assert any(
        p.startswith("rules.HY101.phrases: pt.request[1]: not supported by the linear-time engine") for p in problems
    )
    assert any(
        p.startswith("rules.HY901.match_patterns: [0]: not supported by the linear-time engine") for p in problems
    )
    assert "look-arounds or back-references" in problems[0]
    assert capfd.readouterr().err == "", "RE2 prints nothing of its own"


def test_nested_quantifiers_are_accepted_and_run_in_linear_time(tmp_path: Path) -> None:
    """`^(\\w+\\s?)*$` and `(a|aa)*$` backtrack for ever on the standard re; configured, they run on RE2."""
    path = tmp_path / "hygiene.toml"
    path.write_text(
        '[slack]\nchannels = ["dia-a-dia"]\n[rules.HY101.phrases.pt]\nrequest = ["(a|aa)*b$"]\n'
        '[rules.HY901]\nname = "whole-words"\nsays = "y"\nmatch_patterns = ["^(\\\\w+\\\\s?)*$"]\n',
        encoding="utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HYGIENE_")}
    hostile = "a" * 60 + "!"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "hygiene", "explain", hostile, "--config", str(path)],
        capture_output=True, text=True, env=environment, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert "HY901 whole-words" in result.stdout


def charter_config(charters: dict[str, Any], groups: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """A config watching #alertas and #produto, with these charters and people groups."""
    chat = {"kind": "slack", "channels": ["alertas", "produto"]}
    return {"chat": [chat], "charters": charters, "people": {"groups": groups or {}}}


def charter_problems(charters: dict[str, Any], groups: dict[str, list[str]] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_module.parse(charter_config(charters, groups))
    return caught.value.problems


def test_charters_are_read_with_their_groups() -> None:
    charters = {
        "alertas": {"purpose": "alertas", "automated_only": True, "status": {"from": "vendas", "within_hours": 4}},
        "produto": {"purpose": "dúvidas", "elsewhere": [{"name": "bug", "pt": ["achei um bug"], "goes_to": "o form"}]},
    }
    book = config_module.parse(charter_config(charters, {"vendas": ["U07ANA"]})).charter_book
    status = book.charters["alertas"].status
    assert status is not None and status.from_ == "vendas" and status.escalation == []
    assert book.people_in(["vendas"]) == {"U07ANA"}
    assert book.charters["produto"].elsewhere[0].goes_to == "o form"


def test_charter_problems_are_named_by_key_path() -> None:
    charters = {
        "fiscall": {"purpose": "x"},
        "alertas": {"purpose": "x", "posters": ["ops"], "status": {"from": "vendas", "within_hours": 2}},
    }
    assert charter_problems(charters, {"sales": ["U1"]}) == [
        'charters.fiscall: "fiscall" is not a watched channel (only watched channels are judged)',
        'charters.alertas.posters[0]: unknown people group "ops" (people.groups)',
        'charters.alertas.status.from: unknown group "vendas" (known: mentioned, sales)',
    ]


def test_charter_fields_are_validated_by_key_path() -> None:
    charters = {
        "alertas": {"purpose": "x", "status": {"within_hours": 0}, "colour": "red"},
        "produto": {"purpose": "x", "elsewhere": [{"name": "bug", "pt": ["bug|erro"], "goes_to": "o form"}]},
    }
    assert charter_problems(charters) == [
        "charters.alertas.status.within_hours: Input should be greater than 0",
        "charters.alertas.colour: unknown key",
        "charters.produto.elsewhere[0].pt: [0]: 'bug|erro': cues are plain words or phrases (no | * = ^ or ...)",
    ]
