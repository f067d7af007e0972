"""The cycle, split by concept: :mod:`~hygiene.cycle.engine` runs it; :mod:`~hygiene.cycle.chat_sync`
reads each chat; :mod:`~hygiene.cycle.judge` judges a channel's window (reusable by a push-mode
``serve``); :mod:`~hygiene.cycle.helpdesk_sync` syncs the helpdesk; :mod:`~hygiene.cycle.report`
counts what happened."""

from hygiene.cycle.engine import Engine, retry_rules
from hygiene.cycle.judge import plan_actions
from hygiene.cycle.report import CycleReport

__all__ = ["CycleReport", "Engine", "plan_actions", "retry_rules"]
