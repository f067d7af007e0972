"""Logging through structlog to stderr: readable on a terminal, JSON lines otherwise.

Secrets never reach the output: a processor masks Slack tokens and any value of the
environment variables the config names as secrets, wherever they appear in an event.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

TOKEN_PATTERN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+\S+")
_secrets: set[str] = set()


def register_secrets(values: Iterable[str]) -> None:
    _secrets.update(value for value in values if value and len(value) >= 6)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "***")
    return TOKEN_PATTERN.sub("***", text)


def _redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value)
        elif not isinstance(value, int | float | bool | type(None)):
            event[key] = redact(repr(value)) if not isinstance(value, dict | list) else _deep(value)
    return event


def _deep(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep(v) for v in value]
    return value


def configure(level: str = "info", json_output: bool | None = None) -> None:
    """Send logs to stderr; JSON when stderr is not a terminal (cron, systemd) unless told."""
    if json_output is None:
        json_output = not sys.stderr.isatty() or os.environ.get("HYGIENE_LOG_FORMAT") == "json"
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
