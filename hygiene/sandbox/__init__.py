"""The built-in sandbox: local Slack (and later helpdesk) APIs on loopback, seeded by scenarios."""

from hygiene.sandbox.slack_api import Fault, SlackSandbox, SlackState

__all__ = ["Fault", "SlackSandbox", "SlackState"]
