"""Bad inputs a new user tries give a clear error (or a quiet exit), never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from hygiene.cli import cli

REQUEST = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"
TICKETS = str(Path(__file__).parent / "corpus" / "tickets.json")


def _messages(path: Path, count: int) -> Path:
    lines = (
        json.dumps({"channel": "dia-a-dia", "user": "U1", "ts": f"{1_700_000_000 + i * 60}.000100", "text": REQUEST})
        for i in range(count)
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_report_out_into_a_missing_folder_names_it(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "report.html"
    result = CliRunner().invoke(
        cli, ["report", "--tickets", TICKETS, "--now", "2026-11-18T08:30", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert f"--out: {out.parent}: no such folder; create it first" in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_base_url_that_is_not_a_url_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "hygiene.toml"
    config.write_text('[slack]\nchannels = ["x"]\nbase_url = "not a url"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["check-config", "--offline", "--config", str(config)])
    assert result.exit_code == 2
    assert "slack.base_url: 'not a url' is not a URL: write it as https://host/path" in result.output
    config.write_text('[slack]\nchannels = ["x"]\n[helpdesk]\nkind = "gclick"\nbase_url = "api.gclick"\n')
    result = CliRunner().invoke(cli, ["check-config", "--offline", "--config", str(config)])
    assert "helpdesk.base_url: 'api.gclick' is not a URL" in result.output


def test_audit_piped_into_head_exits_0_quietly(tmp_path: Path) -> None:
    messages = _messages(tmp_path / "m.jsonl", 2_000)
    command = [
        sys.executable,
        "-c",
        "from hygiene.cli import main; main()",
        "audit",
        str(messages),
        "--format",
        "jsonl",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # what `head -1` does after its line
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, stderr
    assert json.loads(first)["rule"] == "HY101"
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "error" not in stderr


def test_audit_with_a_config_does_not_need_slack_channels(tmp_path: Path) -> None:
    messages = _messages(tmp_path / "m.jsonl", 1)
    config = tmp_path / "hygiene.toml"
    for text in ('[hygiene]\ntimezone = "America/Sao_Paulo"\n', '[slack]\ntoken_env = "X"\n'):
        config.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["audit", str(messages), "--config", str(config), "--format", "jsonl"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.splitlines()[0])["rule"] == "HY101"


def test_run_still_requires_slack_channels_by_key_path(tmp_path: Path) -> None:
    config = tmp_path / "hygiene.toml"
    config.write_text('[slack]\ntoken_env = "X"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "slack.channels: required key is missing" in result.output


def test_a_message_file_that_is_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "folder.jsonl").mkdir()
    result = CliRunner().invoke(cli, ["audit", "--messages", str(tmp_path / "folder.jsonl")])
    assert result.exit_code == 2
    assert "cannot be read" in result.output or "is a directory" in result.output.lower()
