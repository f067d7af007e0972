"""Ticket references in chat: ``#4521``, ``chamado 4521``, ``ticket #8830``, helpdesk URLs.

A reference names the number people type (``Ticket.number``) or, failing that, the helpdesk id
(G Click ids look like ``4.1``). URL patterns come from the helpdesk connector so that a link to
a ticket counts as a reference too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hygiene.text import fold

TICKET_WORDS = (
    "ticket",
    "tickets",
    "chamado",
    "chamados",
    "atendimento",
    "atendimentos",
    "tarefa",
    "tarefas",
    "solicitacao",
    "case",
    "issue",
    "protocolo",
)
_NUMBER = r"(\d+(?:\.\d+)?)"
_WORD_REF = re.compile(
    r"\b(?:" + "|".join(TICKET_WORDS) + r")\s*(?:n[oº°]\.?\s*|no\.?\s*|numero\s+|number\s+)?#?\s?" + _NUMBER + r"\b"
)
_HASH_REF = re.compile(r"(?<![\w/&#])#" + _NUMBER + r"\b")


@dataclass(frozen=True)
class TicketRef:
    """One reference found in text: the key as typed and the evidence around it."""

    key: str
    matched: str


def find_refs(text: str, url_patterns: Iterable[re.Pattern[str]] = ()) -> list[TicketRef]:
    """Every ticket reference in ``text``, in order of appearance, without repeats."""
    found: list[tuple[int, TicketRef]] = []
    for pattern in url_patterns:
        for match in pattern.finditer(text):
            found.append((match.start(), TicketRef(match.group("id"), match.group(0))))
    folded = fold(text)
    for pattern in (_WORD_REF, _HASH_REF):
        for match in pattern.finditer(folded):
            found.append((match.start(), TicketRef(match.group(1), match.group(0))))
    seen: set[str] = set()
    refs: list[TicketRef] = []
    for _, ref in sorted(found, key=lambda item: item[0]):
        if ref.key not in seen:
            seen.add(ref.key)
            refs.append(ref)
    return refs


def url_pattern(template: str) -> re.Pattern[str]:
    """A regex for ticket URLs from a template such as ``https://x.zendesk.com/agent/tickets/{id}``."""
    escaped = re.escape(template).replace(re.escape("{id}"), r"(?P<id>[\w.\-]+)")
    return re.compile(escaped)
