"""Logging through structlog to stderr: readable on a terminal, JSON lines otherwise.

Secrets never reach the output: a processor masks Slack tokens, Authorization headers, JWTs,
secrets in query strings, long mixed-case words that look like API tokens, and any value of the
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

TOKEN_PATTERN = re.compile(
    r"xox[a-z]-[A-Za-z0-9-]+"  # Slack bot, user and app-level tokens
    r"|xapp-[A-Za-z0-9-]+"
    r"|Bearer\s+[A-Za-z0-9._~+/=-]+"  # Authorization headers
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWTs (OAuth access tokens)
    r"|(?i:(?<=[?&])(?:access_token|client_secret|client_id|token|api_key|password)=[^&\s]+)"
)
BASIC_AUTH = re.compile(r"Basic\s+[A-Za-z0-9+/=]{8,}")  # in logs only: "Basic plan" is chat
SECRET_LIKE = re.compile(r"[A-Za-z0-9_\-+=]{24,}")
_secrets: set[str] = set()


def register_secrets(values: Iterable[str]) -> None:
    _secrets.update(value for value in values if value and len(value) >= 6)


def looks_like_secret(value: str) -> bool:
    """A long run of letters and digits in both cases (API tokens, client secrets), or a known token."""
    if TOKEN_PATTERN.fullmatch(value):
        return True
    if not SECRET_LIKE.fullmatch(value):
        return False
    return any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)


def mask_tokens(text: str) -> str:
    """``text`` with registered secrets and known token shapes masked: safe for chat text and data."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return TOKEN_PATTERN.sub("***", text)


def redact(text: str) -> str:
    """For logs and errors: :func:`mask_tokens`, and any long mixed-case word that looks like a secret."""
    text = BASIC_AUTH.sub("***", mask_tokens(text))
    return SECRET_LIKE.sub(lambda match: "***" if looks_like_secret(match.group()) else match.group(), text)


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
