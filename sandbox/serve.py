"""`hygiene sandbox`: the demo's Slack and G Click left running, to try hygiene by hand.

Writes ``hygiene.toml`` and ``sandbox.env`` (the sandbox's own, not secret, credentials) into a
folder, so that ``hygiene run`` / ``watch`` / ``report`` can be pointed at it from another shell.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from hygiene.clock import SystemClock
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

CONFIG = """# Written by `hygiene sandbox`: a Slack and a G Click on loopback.
[hygiene]
state_dir = "state"

[[chat]]
kind = "slack"
base_url = "{slack}"
channels = {channels}

[helpdesk]
kind = "gclick"
base_url = "{gclick}"
create_department_id = 4

[policy]
cooldown_minutes = 0
working_hours_only = false

[rules.HY101.channels.fiscal]
mode = "auto"
"""


def serve(scenario: str, folder: Path, seconds: float | None, out: Callable[[str], None]) -> int:
    """Serve until ``seconds`` pass (or Ctrl-C); returns how many messages the bot posted."""
    path = Path(scenario) if Path(scenario).exists() else SCENARIOS / f"{scenario}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    slack_state = SlackState.from_scenario(path, SystemClock())
    gclick = GClickState.from_tickets(data.get("tickets", []), SystemClock())
    folder.mkdir(parents=True, exist_ok=True)
    channels = [c["name"] for c in data["channels"] if c.get("is_member", True)]
    with SlackSandbox(slack_state) as slack, gclick.server() as gclick_server:
        config = folder / "hygiene.toml"
        config.write_text(
            CONFIG.format(slack=slack.base_url, gclick=gclick_server.base_url, channels=json.dumps(channels)),
            encoding="utf-8",
        )
        env = folder / "sandbox.env"
        env.write_text(
            f"SLACK_BOT_TOKEN={slack.token}\nGCLICK_CLIENT_ID={gclick.client_id}\n"
            f"GCLICK_CLIENT_SECRET={gclick.client_secret}\n",
            encoding="utf-8",
        )
        out(f"Slack sandbox at {slack.base_url}, G Click sandbox at {gclick_server.base_url}")
        out(f"In another shell:\n  set -a; . {env}; set +a\n  hygiene run --config {config}")
        out("Ctrl-C stops the sandbox.")
        try:
            deadline = time.monotonic() + seconds if seconds else None
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        posts = slack_state.bot_posts()
        out(f"The bot posted {len(posts)} message(s); G Click received {len(gclick.created())} new task(s).")
        return len(posts)
