"""The helpdesk's client directory as the store keeps it: names to judge with, records to create with.

Detection sees every client name (``extra_clients``) and every alias → name (the helpdesk's own
aliases such as G Click's ``apelido``, merged with ``[clients] aliases``); ticket creation turns
a name into the helpdesk's record (full name and id), and refuses to guess when two records
answer to the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hygiene.clients import canonical
from hygiene.ports import ClientRecord


class ClientDirectory:
    def __init__(self, records: Iterable[ClientRecord], aliases: Mapping[str, str] | None = None) -> None:
        self.records = list(records)
        self.config_aliases = dict(aliases or {})
        self._by_key: dict[str, list[ClientRecord]] = {}
        for record in self.records:
            for name in {record.name, *record.aliases}:
                key = canonical(name)
                if key and record not in self._by_key.setdefault(key, []):
                    self._by_key[key].append(record)

    def names(self) -> list[str]:
        return sorted({record.name for record in self.records})

    def aliases(self) -> dict[str, str]:
        """Alias → client name: the helpdesk's own aliases, then the config's (which win)."""
        found = {
            alias: record.name
            for record in self.records
            for alias in record.aliases
            if alias and canonical(alias) != canonical(record.name) and len(self._by_key[canonical(alias)]) == 1
        }
        return found | self.config_aliases

    def lookup(self, name: str | None) -> ClientRecord | None:
        """The one record answering to ``name`` (or to the client a configured alias names)."""
        if not name:
            return None
        for alias, target in self.config_aliases.items():
            if canonical(alias) == canonical(name):
                name = target
                break
        found = self._by_key.get(canonical(name), [])
        return found[0] if len(found) == 1 else None
