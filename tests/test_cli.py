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
from hygiene.store import Store
from sandbox.demo_digisac import running, tokens_in_env
from sandbox.digisac_api import DigisacState
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SlackSandbox, SlackState
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


def test_demo_on_rocket_chat_golden() -> None:
    result = hygiene("demo", "--scenario", "rocketchat", "--json")
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last == {
        "nudges": 8,
        "tickets_created": 1,
        "status_answers": 3,
        "thread_updates": 0,
        "charter_findings": 4,
        "duplicates_on_rerun": 0,
    }
    assert "Escalando para @sarah" in result.stdout, "mentions are written the Rocket.Chat way"
    assert "<@" not in result.stdout and "<!subteam" not in result.stdout


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


def test_check_config_online_resolves_every_channel_setting(tmp_path: Path, live: SlackSandbox) -> None:
    extra = """exempt_channels = ["elogios", "elogio"]
[report]
channel = "gestao"
department_channels = { Fiscal = "#fiscal", DP = "dp" }
[rules.HY901]
name = "x"
match_phrases = ["y"]
says = "z"
only_channels = ["C01DIADIA", "C09NOPE00"]
"""
    config = write_config(tmp_path, live.base_url, extra)
    result = hygiene("check-config", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        'error: policy.exempt_channels[1]: unknown channel name "elogio"',
        'error: report.channel: unknown channel name "gestao"',
        'error: report.department_channels.DP: unknown channel name "dp"',
        'error: rules.HY901.only_channels[1]: unknown channel id "C09NOPE00"',
    ]
    assert live.state.calls["conversations.list"] == 1


def hanging_config(tmp_path: Path, base_url: str, limit: int = 2) -> Path:
    """A config whose cycles end after ``limit`` s while Slack takes 10 s to answer (and the client waits 60)."""
    config = write_config(tmp_path, base_url)
    text = config.read_text().replace("timeout_seconds = 2", "timeout_seconds = 60")
    config.write_text(text.replace('state_dir = "state"', f'state_dir = "state"\ncycle_timeout_seconds = {limit}'))
    return config


def test_a_cycle_past_its_limit_is_ended_and_recorded_as_failed(tmp_path: Path, live: SlackSandbox) -> None:
    import sqlite3
    import time

    live.state.inject("conversations.history", "timeout", times=1, delay=10)
    started = time.monotonic()
    result = hygiene("run", "--config", str(hanging_config(tmp_path, live.base_url)))
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 9
    assert "error: hygiene.cycle_timeout_seconds: the cycle ran past 2 s and was ended" in result.stderr
    with sqlite3.connect(tmp_path / "state" / "hygiene.db") as db:
        assert [row[0] for row in db.execute("select status from runs")] == ["failed"]


def test_watch_ends_a_hung_cycle_and_goes_on(tmp_path: Path, live: SlackSandbox) -> None:
    live.state.inject("conversations.history", "timeout", times=1, delay=10)
    config = hanging_config(tmp_path, live.base_url, limit=4)  # room for the second, healthy cycle
    result = hygiene("watch", "--config", str(config), "--interval", "5", "--cycles", "2")
    assert "the cycle ran past 4 s and was ended" in result.stderr
    assert "posted 5" in result.stderr


def stuck_holder(lock: Path, host: str | None = None, age: float = 10_000) -> subprocess.Popen[str]:
    """A real second process that holds the lock, its record dated ``age`` seconds ago, and hangs."""
    code = f"""
import json, os, socket, sys, time
from pathlib import Path
from hygiene.lock import run_lock
with run_lock(Path({str(lock)!r})):
    host = {host!r} or socket.gethostname()
    record = {{"pid": os.getpid(), "host": host, "started_at": time.time() - {age}}}
    Path({str(lock)!r}).write_text(json.dumps(record))
    print("holding", flush=True)
    time.sleep(600)
"""
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_stale_lock_of_ours_is_broken_reported_and_the_run_goes_on(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    store = Store.open(tmp_path / "state" / "hygiene.db")
    store.runs.start(SystemClock().now())  # the stuck run's record
    store.close()
    holder = stuck_holder(tmp_path / "state" / "hygiene.lock")
    try:
        result = hygiene("run", "--config", str(config))
        assert holder.wait(timeout=10) == -15, "the stuck holder was ended with SIGTERM"
    finally:
        holder.kill()
    assert result.returncode == 1, result.stderr
    assert f"is held by a stuck run (pid {holder.pid} on " in result.stderr
    assert "past the 660 s limit; ended it (SIGTERM) and took the lock" in result.stderr
    assert "posted 5" in result.stderr, "the run went on with its cycle"
    store = Store.open(tmp_path / "state" / "hygiene.db")
    assert [run["status"] for run in store.runs.all()] == ["failed", "ok"]
    store.close()


def test_a_stale_lock_held_elsewhere_is_reported_not_broken(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    holder = stuck_holder(tmp_path / "state" / "hygiene.lock", host="another-host")
    try:
        result = hygiene("run", "--config", str(config))
        assert holder.poll() is None, "a holder on another host is never signalled"
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert "it runs on another-host, not here: stop it by hand" in result.stderr
    assert live.state.calls == {}


def test_a_young_lock_still_leaves_the_cycle_to_its_holder(tmp_path: Path, live: SlackSandbox) -> None:
    config = write_config(tmp_path, live.base_url)
    holder = stuck_holder(tmp_path / "state" / "hygiene.lock", age=30)
    try:
        result = hygiene("run", "--config", str(config))
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 0
    assert f"another hygiene run holds {tmp_path / 'state' / 'hygiene.lock'} (pid {holder.pid} on " in result.stderr


def test_check_config_names_why_slack_is_unreachable(tmp_path: Path) -> None:
    result = hygiene("check-config", "--config", str(write_config(tmp_path, "http://no-such-host.invalid/api/")))
    assert result.returncode == 1
    assert "DNS lookup failed (no-such-host.invalid)" in result.stderr
    assert "call budget" not in result.stderr


def test_demo_on_the_client_side_golden() -> None:
    """Slack, G Click and Digisac together: the client side is judged and nothing reaches a client."""
    result = hygiene("demo", "--scenario", "digisac", "--json")
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last == {
        "client_requests": 1,
        "tickets_created": 2,
        "client_waiting": 2,
        "praise_shared": 1,
        "agent_coaching": 1,
        "team_nudges": 8,
        "messages_to_clients": 0,
        "duplicates_on_rerun": 0,
    }
    assert "Fernanda (Brascont)" in result.stdout and "99876" not in result.stdout, "names, never phone numbers"


def test_check_config_lists_the_digisac_contacts_with_no_client(tmp_path: Path) -> None:
    """Digisac beside G Click: the contacts neither the mapping nor the client directory place are
    listed after the ok line (a warning, exit 0), shown by first name and never by phone number."""
    data = json.loads((SCENARIO.parent / "accounting.json").read_text(encoding="utf-8"))
    gclick = GClickState.from_tickets(data.get("tickets", []), SystemClock())
    digisac = DigisacState.from_scenario(clock=SystemClock())
    config = tmp_path / "hygiene.toml"
    with gclick.server() as desk, gclick.credentials_in_env(), running(digisac) as chat:
        config.write_text(
            f"""
[hygiene]
state_dir = "{tmp_path / "state"}"
[[chat]]
kind = "digisac"
base_url = "{chat.base_url}"
channels = ["WhatsApp Horizonte"]
retries = 1
[helpdesk]
kind = "gclick"
base_url = "{desk.base_url}"
retries = 1
""",
            encoding="utf-8",
        )
        with tokens_in_env("unused", chat.token):
            result = CliRunner().invoke(cli, ["check-config", "--config", str(config)])
    assert result.exit_code == 0, result.output
    ok, warning = result.output.strip().splitlines()[-2:]
    assert "ok (1 channels: #WhatsApp Horizonte; G Click:" in ok
    assert warning == "warning: chat[0]: 1 contacts with no known client (map them in chat[0].contacts): contato (…44)"
    assert "5511955554444" not in result.output
