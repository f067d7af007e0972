"""The built-in sandbox: local Slack (and later helpdesk) APIs on loopback, seeded by scenarios."""

from hygiene.sandbox.http_server import Fault
from hygiene.sandbox.slack_api import SlackSandbox, SlackState

__all__ = ["Fault", "SlackSandbox", "SlackState"]
