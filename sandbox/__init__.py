"""The built-in sandbox and demo: local Slack, G Click and Zendesk APIs on loopback, seeded by
scenarios, plus the scripted demo and the storm harness.

It ships beside the product for ``hygiene demo`` and ``hygiene sandbox``, but the product never
depends on it: ``hygiene``, ``connectors`` and ``rules`` may not import it (an import-linter
contract), except the CLI's two commands that start it.
"""

from sandbox.http_server import Fault
from sandbox.slack_api import SlackSandbox, SlackState

__all__ = ["Fault", "SlackSandbox", "SlackState"]
