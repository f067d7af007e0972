"""No secret reaches any output: every secret-bearing setting gets a marker, every output is searched.

Markers are shaped so that only hygiene's own knowledge can mask them (no `xoxb-` prefix, dots
break the token-like heuristic); those pasted into `*_env` keys are the shapes people paste.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.clock import SystemClock
from sandbox.gclick_api import GClickState
from sandbox.serve import CONFIG as SANDBOX_CONFIG
from sandbox.slack_api import SlackSandbox, SlackState
from sandbox.zendesk_api import ZendeskState
from tests.conftest import SCENARIO

SLACK = "slack.MARKER.tok.91x"
GCLICK_ID = "gclick.MARKER.id.27y"
GCLICK_SECRET = "gclick.MARKER.secret.38z"
ZENDESK = "zendesk.MARKER.token.45w"
PASTED = {
    "slack": "xoxb-2291-MARKERpasted-A8f7Qz",
    "gclick_id": "MARKERpastedId7Hq2Lr9Xv4Nw6Ty",
    "gclick_secret": "MARKER/pasted+secret==",
    "zendesk": "ZdMARKERpasted0123456789abcdefXYZ",
}
CHANNELS = ["dia-a-dia", "fiscal", "departamento-pessoal", "support-team"]


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    state = SlackState.from_scenario(SCENARIO, SystemClock())
    state.tokens[SLACK] = state.bot["user_id"]
    with SlackSandbox(state) as server:
        yield server


def hygiene(*args: str, outputs: list[str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HYGIENE_", "SLACK_", "GCLICK_", "ZEND"))}
    environment |= {
        "SLACK_BOT_TOKEN": SLACK,
        "GCLICK_CLIENT_ID": GCLICK_ID,
        "GCLICK_CLIENT_SECRET": GCLICK_SECRET,
        "ZENDESK_API_TOKEN": ZENDESK,
    }
    command = [sys.executable, "-m", "hygiene", "--log-level", "debug", "--log-json", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
    outputs.extend([result.stdout, result.stderr])
    return result


def assert_no_marker(outputs: list[str], folder: Path) -> None:
    for text in outputs:
        assert "MARKER" not in text, text
    for path in folder.rglob("*"):
        if path.is_file() and path.parent.name != "inputs":
            assert b"MARKER" not in path.read_bytes(), path


def test_gclick_and_slack_secrets_reach_no_output(tmp_path: Path, slack: SlackSandbox) -> None:
    data = json.loads(SCENARIO.read_text(encoding="utf-8"))
    gclick = GClickState.from_tickets(data.get("tickets", []), SystemClock())
    gclick.client_id, gclick.client_secret = GCLICK_ID, GCLICK_SECRET
    (tmp_path / "inputs").mkdir()
    pasted = tmp_path / "inputs" / "pasted.jsonl"
    line = {"channel": "dia-a-dia", "user": "U1", "ts": "1700000000.000100", "text": f"meu token é {SLACK} ok?"}
    pasted.write_text(json.dumps(line) + "\n", encoding="utf-8")
    slack.state.post_as(slack.state.bot["user_id"], "C01DIADIA", f"token {SLACK}")
    outputs: list[str] = []
    with gclick.server() as desk:
        config = tmp_path / "hygiene.toml"
        config.write_text(
            SANDBOX_CONFIG.format(slack=slack.base_url, gclick=desk.base_url, channels=json.dumps(CHANNELS)),
            encoding="utf-8",
        )
        c = str(config)
        assert hygiene("check-config", "--config", c, outputs=outputs).returncode == 0, outputs
        assert hygiene("run", "--config", c, outputs=outputs).returncode == 0, outputs
        assert hygiene("run", "--config", c, outputs=outputs).returncode == 0, outputs
        report = tmp_path / "report.html"
        assert (
            hygiene("report", "--config", c, "--format", "html", "--out", str(report), outputs=outputs).returncode == 0
        )
        assert hygiene("report", "--config", c, "--format", "csv", outputs=outputs).returncode == 0, outputs
        hygiene("audit", str(pasted), "--config", c, "--format", "jsonl", outputs=outputs)
        hygiene("explain", f"o token {SLACK} vazou", "--config", c, outputs=outputs)
        assert hygiene("db", "check", "--config", c, outputs=outputs).returncode == 0, outputs
    assert "posted" in outputs[3], "the run worked with the marker credentials"
    assert_no_marker(outputs, tmp_path)


def test_zendesk_token_reaches_no_output(tmp_path: Path, slack: SlackSandbox) -> None:
    zendesk = ZendeskState(token=ZENDESK)
    outputs: list[str] = []
    with zendesk.server() as desk:
        config = tmp_path / "hygiene.toml"
        config.write_text(
            f'[hygiene]\nstate_dir = "state"\n[slack]\nbase_url = "{slack.base_url}"\nchannels = ["dia-a-dia"]\n'
            f'[helpdesk]\nkind = "zendesk"\nbase_url = "{desk.base_url}"\nemail = "{zendesk.email}"\n',
            encoding="utf-8",
        )
        assert hygiene("check-config", "--config", str(config), outputs=outputs).returncode == 0, outputs
        assert hygiene("run", "--config", str(config), outputs=outputs).returncode == 0, outputs
    refusing = ZendeskState(token="another")  # a refused token names the system, not the token
    with refusing.server() as desk:
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text[: text.index("base_url = ", text.index("[helpdesk]"))]
            + f'base_url = "{desk.base_url}"\nemail = "{zendesk.email}"\n'
        )
        assert hygiene("check-config", "--config", str(config), outputs=outputs).returncode == 1
    assert "zendesk" in outputs[-1]
    assert_no_marker(outputs, tmp_path)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("slack", "token_env", PASTED["slack"]),
        ("helpdesk", "client_id_env", PASTED["gclick_id"]),
        ("helpdesk", "client_secret_env", PASTED["gclick_secret"]),
        ("helpdesk", "token_env", PASTED["zendesk"]),
    ],
)
def test_a_secret_pasted_into_an_env_key_is_refused_without_echoing_it(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    desk = 'kind = "zendesk"\nsubdomain = "acme"\nemail = "a@b.c"\n' if key == "token_env" else 'kind = "gclick"\n'
    helpdesk = f'[helpdesk]\n{desk}{key} = "{value}"\n' if section == "helpdesk" else f"[helpdesk]\n{desk}"
    slack = f'token_env = "{value}"\n' if section == "slack" else ""
    config = tmp_path / "inputs" / "hygiene.toml"
    config.parent.mkdir()
    config.write_text(f'[slack]\nchannels = ["dia-a-dia"]\n{slack}{helpdesk}', encoding="utf-8")
    outputs: list[str] = []
    for command in (["check-config", "--offline"], ["check-config"], ["run"], ["report"], ["audit", "-"]):
        result = CliRunner().invoke(cli, [*command, "--config", str(config)], input="")
        outputs.append(result.output)
        assert result.exit_code == 2, result.output
        assert f"{section}.{key}: this is not the name of an environment variable" in result.output
    assert_no_marker(outputs, tmp_path)
