"""`hygiene audit --from-chat`: a backtest read through the configured chat itself, posting nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.clock import SystemClock
from sandbox.slack_api import SlackSandbox, SlackState
from tests.conftest import SCENARIO

CHANNELS = '["dia-a-dia", "fiscal", "departamento-pessoal", "elogios", "support-team"]'


@pytest.fixture
def live() -> Iterator[SlackSandbox]:
    """The scenario's workspace as of now (its messages minutes old), served over loopback."""
    with SlackSandbox(SlackState.from_scenario(SCENARIO, SystemClock())) as sandbox:
        yield sandbox


def write_config(tmp_path: Path, sandbox: SlackSandbox, extra: str = "") -> Path:
    path = tmp_path / "hygiene.toml"
    path.write_text(
        f'[hygiene]\nstate_dir = "state"\n[[chat]]\nkind = "slack"\nbase_url = "{sandbox.base_url}"\n'
        f"channels = {CHANNELS}\n{extra}",
        encoding="utf-8",
    )
    return path


def audit(*args: str, token: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["audit", *args], env={"SLACK_BOT_TOKEN": token})
    return result.exit_code, result.stdout, result.stderr


def test_a_backtest_reads_the_chat_and_judges_it_without_posting(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live)
    code, out, err = audit("--from-chat", "--days", "1", "--config", str(config), "--format", "jsonl", token=live.token)
    assert code == 0, err
    findings = [json.loads(line) for line in out.splitlines()]
    assert {f["rule"] for f in findings} >= {"HY101"}
    assert any("Brascont" in f["text"] or "Padaria" in f["text"] for f in findings if f["rule"] == "HY101")
    assert "history: " in err and "from 5 channels, last 1 days" in err
    assert live.state.bot_posts() == [], "a backtest posts nothing"
    assert live.state.calls.get("chat.postMessage", 0) == 0


def test_the_same_history_as_an_export_gives_the_same_findings(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live)
    _, from_chat, _ = audit("--from-chat", "--config", str(config), "--format", "jsonl", token=live.token)
    lines = tmp_path / "messages.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        for channel_id, messages in live.state.messages.items():
            name = live.state.channels[channel_id]["name"]
            for message in messages:
                out.write(json.dumps({**message, "channel": name}, ensure_ascii=False) + "\n")
    _, from_file, _ = audit(
        "--messages", str(lines), "--config", str(config), "--format", "jsonl", "--jobs", "1", token=""
    )
    key = lambda finding: (finding["rule"], finding["ts"])  # noqa: E731
    assert sorted(map(key, map(json.loads, from_chat.splitlines()))) == sorted(
        map(key, map(json.loads, from_file.splitlines()))
    )


def test_a_read_cut_by_the_call_budget_is_reported_and_exits_1(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live, 'page_size = 1\n[chat.budget]\n"conversations.history" = 2\n')
    code, _, err = audit("--from-chat", "--config", str(config), token=live.token)
    assert code == 1
    assert "incomplete: slack #" in err and "budget" in err


def test_from_chat_is_not_mixed_with_files(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live)
    code, _, err = audit("--from-chat", "--messages", "x.jsonl", "--config", str(config), token=live.token)
    assert code == 2 and "--from-chat reads the chats themselves" in err


def test_a_backtest_reads_rocket_chat_the_same_way(tmp_path: Path) -> None:
    from sandbox.rocketchat_api import RocketChatSandbox, RocketChatState

    with RocketChatSandbox(RocketChatState.from_scenario("rocketchat", SystemClock())) as sandbox:
        path = tmp_path / "hygiene.toml"
        path.write_text(
            f'[hygiene]\nstate_dir = "state"\n[[chat]]\nkind = "rocketchat"\nbase_url = "{sandbox.base_url}"\n'
            'channels = ["support-backroom", "very-technical-questions", "sales-alerts"]\n',
            encoding="utf-8",
        )
        user, _, token = sandbox.token.partition(":")
        result = CliRunner().invoke(
            cli,
            ["audit", "--from-chat", "--days", "1", "--config", str(path), "--format", "jsonl"],
            env={"ROCKETCHAT_USER_ID": user, "ROCKETCHAT_TOKEN": token},
        )
        assert result.exit_code == 0, result.stderr
        rules = {json.loads(line)["rule"] for line in result.stdout.splitlines()}
        assert "HY101" in rules
        assert "from 3 channels, last 1 days" in result.stderr
        assert sandbox.state.bot_posts() == [], "a backtest posts nothing"
