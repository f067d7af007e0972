"""The command line as cron runs it: real processes, real exit codes, the sandbox on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.clock import SystemClock
from hygiene.lock import run_lock
from hygiene.sandbox.slack_api import SlackSandbox, SlackState
from tests.conftest import SCENARIO

TOKEN = "xoxb-sandbox-not-a-real-token"


@pytest.fixture
def live() -> Iterator[SlackSandbox]:
    """A sandbox on the real clock, since `hygiene run` in a subprocess uses the real clock."""
    with SlackSandbox(SlackState.from_scenario(SCENARIO, SystemClock())) as server:
        yield server


def write_config(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "hygiene.toml"
    path.write_text(
        f"""
[hygiene]
state_dir = "state"
[slack]
base_url = "{base_url}"
channels = ["dia-a-dia", "fiscal", "departamento-pessoal", "support-team"]
retries = 1
timeout_seconds = 2
[policy]
cooldown_minutes = 0
working_hours_only = false
{extra}
""",
        encoding="utf-8",
    )
    return path


def hygiene(*args: str, token: str | None = TOKEN, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_", "SLACK_"))}
    environment.update(env)
    if token:
        environment["SLACK_BOT_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "hygiene", *args], capture_output=True, text=True, env=environment, timeout=120
    )


def bot_keys(server: SlackSandbox) -> list[str]:
    return [p["metadata"]["event_payload"]["key"] for p in server.state.bot_posts() if p.get("metadata")]


def test_run_nudges_and_a_rerun_is_quiet(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    first = hygiene("run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    # without a helpdesk, requests that say "cliente"/"customer" or name a party asking for client
    # work fire (4), plus the bare "got a sec?"
    assert "posted 5" in first.stderr
    second = hygiene("run", "--config", str(config))
    assert second.returncode == 0
    assert "posted 0" in second.stderr
    assert len(bot_keys(live)) == 5


def test_crash_between_post_and_record_then_rerun(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    crashed = hygiene("run", "--config", str(config), HYGIENE_FAILPOINTS="outbox.after_send")
    assert crashed.returncode != 0
    assert len(bot_keys(live)) == 1
    rerun = hygiene("run", "--config", str(config))
    assert rerun.returncode == 0, rerun.stderr
    assert "recovered 1" in rerun.stderr
    keys = bot_keys(live)
    assert len(keys) == 5 and max(Counter(keys).values()) == 1


def test_a_second_run_exits_at_once_while_one_holds_the_lock(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    with run_lock(tmp_path / "state" / "hygiene.lock"):
        second = hygiene("run", "--config", str(config))
    assert second.returncode == 0
    assert "another hygiene run holds" in second.stderr
    assert live.state.calls == {}, "the second run did not touch Slack"


def test_missing_token_exits_2_and_names_the_key(tmp_path: Path, live: SlackSandbox) -> None:
    result = hygiene("run", "--config", str(write_config(tmp_path, live.base_url)), token=None)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: slack.token_env: environment variable SLACK_BOT_TOKEN is not set"


def test_unknown_key_exits_2_and_names_the_key(tmp_path: Path, live: SlackSandbox) -> None:
    result = hygiene("run", "--config", str(write_config(tmp_path, live.base_url, "colldown = 3")))
    assert result.returncode == 2
    assert "error: policy.colldown: unknown key" in result.stderr


def test_wrong_type_exits_2_and_names_the_key(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url, "daily_budget_per_person = 'many'")
    result = hygiene("check-config", "--offline", "--config", str(config))
    assert result.returncode == 2
    assert "error: policy.daily_budget_per_person: Input should be a valid integer" in result.stderr


def test_unknown_channel_exits_2_with_its_index(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    config.write_text(config.read_text().replace('"support-team"]', '"fiscall"]'))
    result = hygiene("run", "--config", str(config))
    assert result.returncode == 2
    assert 'error: slack.channels[3]: unknown channel name "fiscall"' in result.stderr


def test_bad_token_exits_1_without_printing_it(tmp_path: Path, live: SlackSandbox) -> None:
    secret = "xoxb-wrong-token-for-tests"
    result = hygiene("run", "--config", str(write_config(tmp_path, live.base_url)), token=secret)
    assert result.returncode == 1
    assert "invalid_auth" in result.stderr
    assert secret not in result.stderr + result.stdout


def test_unreachable_slack_exits_1(tmp_path: Path) -> None:
    result = hygiene("run", "--config", str(write_config(tmp_path, "http://127.0.0.1:9/api/")))
    assert result.returncode == 1
    assert "slack: auth.test: connection failed" in result.stderr


def test_check_config_online_lists_channels(tmp_path: Path, live: SlackSandbox) -> None:
    result = hygiene("check-config", "--config", str(write_config(tmp_path, live.base_url)))
    assert result.returncode == 0, result.stderr
    assert "ok (4 channels: #dia-a-dia, #fiscal, #departamento-pessoal, #support-team)" in result.stdout


def test_rules_lists_every_rule_and_prints_docs() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["rules"])
    assert listing.exit_code == 0
    assert listing.output.splitlines()[0].split()[:3] == ["HY101", "request-in-chat", "nudge"]
    doc = runner.invoke(cli, ["rules", "hy105"])
    assert doc.exit_code == 0
    for heading in ("HY105 incomplete-message", "What it does:", "Why it matters:", "Examples:", "Settings:"):
        assert heading in doc.output
    assert "grace_minutes = 5" in doc.output
    unknown = runner.invoke(cli, ["rules", "HY999"])
    assert unknown.exit_code == 2


def test_demo_json_golden() -> None:
    result = hygiene("demo", "--json")
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(last) == ["nudges", "tickets_created", "status_answers", "thread_updates", "duplicates_on_rerun"]
    assert all(isinstance(value, int) for value in last.values())
    assert last == {
        "nudges": 9,
        "tickets_created": 1,
        "status_answers": 1,
        "thread_updates": 2,
        "duplicates_on_rerun": 0,
    }
    assert last["duplicates_on_rerun"] == 0
    assert "== Cycle 3: quiet rerun with nothing new ==" in result.stdout


def test_watch_runs_cycles_and_keeps_going_after_a_failure(tmp_path: Path, live: SlackSandbox) -> None:
    live.state.inject("auth.test", "server_error", times=2)  # the first cycle fails after its retry
    config = write_config(tmp_path, live.base_url)
    result = hygiene("watch", "--config", str(config), "--interval", "5", "--cycles", "2")
    assert result.returncode == 0, result.stderr
    assert "error: slack: auth.test: HTTP 500" in result.stderr
    assert "posted 5" in result.stderr


def test_sandbox_command_serves_a_workspace_to_run_against(tmp_path: Path) -> None:
    import time

    folder = tmp_path / "try"
    server = subprocess.Popen(
        [sys.executable, "-m", "hygiene", "sandbox", "--dir", str(folder), "--for", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            if (folder / "sandbox.env").exists():
                break
            time.sleep(0.1)
        env = dict(line.split("=", 1) for line in (folder / "sandbox.env").read_text().splitlines())
        result = hygiene("run", "--config", str(folder / "hygiene.toml"), token=env["SLACK_BOT_TOKEN"], **env)
        assert result.returncode == 0, result.stderr
        assert "posted 0" not in result.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_check_config_names_why_slack_is_unreachable(tmp_path: Path) -> None:
    result = hygiene("check-config", "--config", str(write_config(tmp_path, "http://no-such-host.invalid/api/")))
    assert result.returncode == 1
    assert "DNS lookup failed (no-such-host.invalid)" in result.stderr
    assert "call budget" not in result.stderr
