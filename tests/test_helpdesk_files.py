"""The helpdesk contract for the files helpdesk: a JSON export on disk (no HTTP to fail)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.helpdesk.files import FilesHelpdesk
from hygiene.ports import Helpdesk
from tests.contracts.helpdesk import HelpdeskContract


class FilesHarness:
    name = "files"

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "tickets.json"
        self.rows: list[dict[str, Any]] = []
        self.path.write_text("[]")

    def helpdesk(self) -> Helpdesk:
        return FilesHelpdesk(self.path, "https://hd.example/t/{id}")

    def seed(self, count: int) -> None:
        self.rows = [
            {
                "id": str(100 + i),
                "number": str(100 + i),
                "subject": f"Tarefa {i}",
                "client": "Brascont",
                "status": "open",
            }
            for i in range(count)
        ]
        self.path.write_text(json.dumps(self.rows))

    def touch(self, index: int) -> None:
        self.rows[index]["status"] = "pending"
        self.path.write_text(json.dumps(self.rows))

    def count(self) -> int:
        return len(json.loads(self.path.read_text()))

    def notes(self) -> list[str]:
        notes = self.path.with_name(self.path.name + ".notes.jsonl")
        return [json.loads(line)["note"] for line in notes.read_text().splitlines()] if notes.exists() else []

    def close(self) -> None:
        """Nothing to stop: pytest removes the folder."""


class TestFiles(HelpdeskContract):
    harness_class = FilesHarness
